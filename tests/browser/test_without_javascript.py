"""With JavaScript off, the pages are plain forms and links: kills are full-page POSTs."""

from __future__ import annotations

import re

import redis
from playwright.sync_api import Page, expect

from sessions_core import RedisSessions

from .support import KEYS, handle_of, session_row, user_link


def test_without_javascript_kill_and_log_out_everywhere_work_as_full_page_posts(
    operator_without_js: Page, rs: RedisSessions, r: redis.Redis
) -> None:
    page = operator_without_js
    tokens = [rs.create(app="shop", id="kate", ip=f"10.8.0.{i}")["token"] for i in range(3)]
    rs.create(app="shop", id="liam", ip="10.8.0.9")
    page.goto("/apps/shop/")
    assert page.evaluate("typeof window.htmx") == "undefined", "the page's scripts ran"
    expect(page.get_by_test_id("session-row")).to_have_count(4)

    with page.expect_navigation(url=re.compile(r"/apps/shop/$")):
        session_row(page, handle_of("shop", tokens[0])).get_by_test_id("kill-session").click()
    expect(page.get_by_test_id("message")).to_have_text("1 session ended")
    expect(page.get_by_test_id("session-row")).to_have_count(3)
    expect(page.get_by_test_id("count-sessions")).to_have_text("3")
    assert not r.exists(KEYS.session("shop", tokens[0]))

    user_link(page, "kate").first.click()
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    page.get_by_test_id("killsoid-confirm").check()
    with page.expect_navigation(url=re.compile(r"/apps/shop/user/\?id=kate$")):
        page.get_by_test_id("killsoid-button").click()
    expect(page.get_by_test_id("message")).to_have_text("2 sessions ended")
    expect(page.get_by_test_id("session-row")).to_have_count(0)
    assert rs.soid(app="shop", id="kate") == {"sessions": []}
    assert len(rs.soid(app="shop", id="liam")["sessions"]) == 1
