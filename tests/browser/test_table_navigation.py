"""The sessions table: pages, windows and search change it in place, with real URLs."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from sessions_core import RedisSessions


def test_pager_window_and_search_update_the_table_in_place_and_the_address_bar(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    rs.create_many(
        app="shop", sessions=[{"id": f"user{i:02d}", "ip": "10.10.0.1"} for i in range(60)]
    )
    rs.create(app="shop", id="user07", ip="10.10.0.2")
    page.goto("/apps/shop/")
    page.evaluate("window.__sameDocument = true")
    rows = page.get_by_test_id("session-row")
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("page-number")).to_have_text("Page 1 of 2")

    page.get_by_test_id("page-next").click()
    expect(page.get_by_test_id("page-number")).to_have_text("Page 2 of 2")
    expect(rows).to_have_count(11)
    expect(page).to_have_url(re.compile(r"[?&]page=2\b"))

    page.get_by_test_id("window-select").select_option(label="1 min")
    expect(page).to_have_url(re.compile(r"[?&]window=60\b"))
    expect(page.get_by_test_id("sessions-total")).to_have_attribute("data-total", "61")

    page.get_by_test_id("search-input").fill("user07")
    page.get_by_test_id("search-button").click()
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"[?&]q=user07\b"))
    assert page.evaluate("window.__sameDocument") is True, "htmx should swap, not reload"

    page.go_back()
    expect(page.get_by_test_id("sessions-total")).to_have_attribute("data-total", "61")
    expect(page.get_by_test_id("search-input")).to_have_value("")
