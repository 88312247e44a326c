"""On a phone (390 px wide) no page scrolls sideways: wide tables scroll inside their box."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from sessions_core import RedisSessions

from .conftest import PageErrors
from .support import log_in

WIDTH = 390
LONG_ID = "user-" + "0123456789abcdef" * 7  # 117 characters, no place to break
LONG_KEYS = {f"preferences_{n}_" + "k" * 60: "v" * 80 for n in range(3)}


@pytest.fixture
def phone(browser: Browser, base_url: str, operator_credentials: tuple[str, str]) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport={"width": WIDTH, "height": 844})
    page = context.new_page()
    errors = PageErrors()
    page.on("pageerror", errors)
    yield page
    context.close()
    assert errors.errors == [], f"JavaScript errors on the page: {errors.errors}"


def scroll_width(page: Page) -> Any:
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth")


def assert_fits(page: Page, where: str) -> None:
    width = scroll_width(page)
    assert width <= WIDTH, f"{where} is {width} px wide on a {WIDTH} px screen"


def test_no_page_scrolls_sideways_on_a_phone(
    phone: Page, operator_credentials: tuple[str, str], rs: RedisSessions
) -> None:
    rs.create(app="shop", id=LONG_ID, ip="2001:db8:85a3::8a2e:370:7334", d=LONG_KEYS)
    rs.create(app="shop", id=LONG_ID, ip="10.0.0.2", d={"plan": "pro"})
    rs.create(app="a-rather-long-app_nm", id="u1", ip="10.0.0.3")
    page = phone

    page.goto("/accounts/login/")
    assert_fits(page, "the login page")
    log_in(page, *operator_credentials)

    page.goto("/")
    expect(page.get_by_test_id("app-row")).to_have_count(2)
    assert_fits(page, "the apps page")

    page.goto("/apps/shop/?window=86400")
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    assert_fits(page, "the app page")

    page.get_by_test_id("user-link").first.click()
    expect(page.get_by_test_id("session-data")).to_have_count(2)
    assert_fits(page, "the user page")
    page.get_by_test_id("kill-session").first.click()
    expect(page.get_by_test_id("message")).to_have_text("1 session ended")
    assert_fits(page, "the user page after a kill")

    page.goto("/audit/")
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    assert_fits(page, "the audit page")

    page.goto("/apps/nosuch/")
    assert_fits(page, "the 404 page")
