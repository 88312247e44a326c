"""An operator ends sessions by clicking (and by keyboard), and Redis shows it."""

from __future__ import annotations

import re

import redis
from playwright.sync_api import Page, Request, expect

from sessions_core import RedisSessions

from .support import KEYS, exact, handle_of, log_in, session_row, tab_to, user_link


def test_log_in_then_app_then_user_then_log_out_everywhere_removes_the_users_sessions_from_redis(
    page: Page, operator_credentials: tuple[str, str], rs: RedisSessions, r: redis.Redis
) -> None:
    alice = [rs.create(app="shop", id="alice", ip=f"10.0.0.{i}")["token"] for i in range(3)]
    bob = rs.create(app="shop", id="bob", ip="10.0.0.9")["token"]
    rs.create(app="blog", id="alice", ip="10.0.0.1")

    log_in(page, *operator_credentials)
    page.get_by_test_id("app-link").filter(has_text=exact("shop")).click()
    expect(page.get_by_test_id("app-name")).to_have_text("shop")
    expect(page.get_by_test_id("session-row")).to_have_count(4)
    user_link(page, "alice").first.click()
    expect(page.get_by_test_id("user-id")).to_have_text("alice")
    expect(page.get_by_test_id("session-row")).to_have_count(3)

    posts: list[Request] = []
    page.on("request", lambda request: posts.append(request) if "/kill/" in request.url else None)
    # Not confirmed yet: the browser refuses to submit.
    page.get_by_test_id("killsoid-button").click()
    expect(page.locator('[data-testid="killsoid-confirm"]:invalid')).to_have_count(1)
    page.get_by_test_id("killsoid-confirm").check()
    with page.expect_response(re.compile(r"/apps/shop/kill/user/$")) as answer:
        page.get_by_test_id("killsoid-button").click()

    assert answer.value.ok
    assert len(posts) == 1, "the unconfirmed click must not have posted"
    expect(page.get_by_test_id("message")).to_have_text("3 sessions ended")
    expect(page.get_by_test_id("session-row")).to_have_count(0)
    assert rs.soid(app="shop", id="alice") == {"sessions": []}
    assert not any(r.exists(KEYS.session("shop", token)) for token in alice)
    assert not r.exists(KEYS.user_tokens("shop", "alice"))
    assert r.zscore(KEYS.app_users("shop"), "alice") is None
    assert rs.get(app="shop", token=bob) is not None
    assert len(rs.soid(app="blog", id="alice")["sessions"]) == 1, "other apps are untouched"


def test_kill_button_on_the_app_page_ends_exactly_that_session(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    tokens = [rs.create(app="shop", id="carol", ip=f"10.1.0.{i}")["token"] for i in range(3)]
    victim = tokens[1]
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("count-sessions")).to_have_text("3")
    row = session_row(page, handle_of("shop", victim))
    expect(row).to_have_count(1)

    row.get_by_test_id("kill-session").click()

    expect(row).to_have_count(0)
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    expect(page.get_by_test_id("message")).to_have_text("1 session ended")
    # The live counts refresh themselves after a kill, without a reload.
    expect(page.get_by_test_id("count-sessions")).to_have_text("2")
    assert rs.get(app="shop", token=victim) is None
    assert all(rs.get(app="shop", token=t) is not None for t in (tokens[0], tokens[2]))


def test_kill_app_needs_the_app_name_typed_then_ends_every_session_of_that_app_only(
    operator: Page, rs: RedisSessions, r: redis.Redis
) -> None:
    page = operator
    for i in range(3):
        rs.create(app="shop", id=f"user{i}", ip="10.2.0.1")
    kept = rs.create(app="blog", id="user0", ip="10.2.0.1")["token"]
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("session-row")).to_have_count(3)

    page.get_by_test_id("killall-confirm").fill("sho")
    page.get_by_test_id("killall-button").click()
    expect(page.get_by_test_id("message")).to_contain_text("Type the app name exactly")
    assert r.zcard(KEYS.app_sessions("shop")) == 3

    page.get_by_test_id("killall-confirm").fill("shop")
    page.get_by_test_id("killall-button").click()

    expect(page.get_by_test_id("message")).to_have_text("3 sessions ended")
    expect(page.get_by_test_id("session-row")).to_have_count(0)
    expect(page.get_by_test_id("count-sessions")).to_have_text("0")
    expect(page.get_by_test_id("killall-confirm")).to_have_value("")
    assert r.zcard(KEYS.app_sessions("shop")) == 0
    assert r.zcard(KEYS.app_users("shop")) == 0
    assert [m for m in map(str, r.zrange(KEYS.all_sessions, 0, -1)) if m.startswith("shop:")] == []
    assert rs.get(app="blog", token=kept) is not None


def test_kill_buttons_are_reachable_and_work_with_the_keyboard_alone(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    tokens = [rs.create(app="shop", id="dave", ip=f"10.3.0.{i}")["token"] for i in range(2)]
    page.goto("/apps/shop/user/?id=dave")
    expect(page.get_by_test_id("session-row")).to_have_count(2)

    first_kill = page.get_by_test_id("kill-session").first
    tab_to(page, first_kill)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    assert sum(rs.get(app="shop", token=t) is not None for t in tokens) == 1

    tab_to(page, page.get_by_test_id("killsoid-confirm"))
    page.keyboard.press("Space")
    expect(page.get_by_test_id("killsoid-confirm")).to_be_checked()
    tab_to(page, page.get_by_test_id("killsoid-button"))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("session-row")).to_have_count(0)
    assert rs.soid(app="shop", id="dave") == {"sessions": []}
