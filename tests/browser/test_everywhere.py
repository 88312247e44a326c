"""An operator finds a user id in every app from the apps page and logs it out of every app."""

from __future__ import annotations

import re

import redis
from playwright.sync_api import Page, expect

from dashboard.models import KillAudit
from sessions_core import RedisSessions

from .support import log_in


def test_find_an_id_in_every_app_kill_one_session_then_log_it_out_everywhere(
    page: Page, operator_credentials: tuple[str, str], rs: RedisSessions, r: redis.Redis
) -> None:
    for app, n in (("shop", 2), ("blog", 1), ("wiki", 1)):
        for i in range(n):
            rs.create(app=app, id="mallory", ip=f"10.{i}.0.1")
    bystander = rs.create(app="wiki", id="trent", ip="10.9.9.9")["token"]

    log_in(page, *operator_credentials)
    page.get_by_test_id("everywhere-input").fill("mallory")
    page.get_by_test_id("everywhere-search").click()
    expect(page.get_by_test_id("user-id")).to_have_text("mallory")
    expect(page.get_by_test_id("app-group")).to_have_count(3)
    expect(page.get_by_test_id("everywhere-total")).to_contain_text("4 live sessions in 3 apps")
    expect(page.get_by_test_id("session-row")).to_have_count(4)

    shop = page.locator('[data-testid="app-group"][data-app="shop"]')
    with page.expect_response(re.compile(r"/apps/shop/kill/session/$")):
        shop.get_by_test_id("kill-session").first.click()
    expect(page.get_by_test_id("message")).to_have_text("1 session ended")
    expect(page.get_by_test_id("everywhere-total")).to_contain_text("3 live sessions in 3 apps")

    page.get_by_test_id("everywhere-button").click()  # not confirmed: refused by the browser
    expect(page.locator('[data-testid="everywhere-confirm"]:invalid')).to_have_count(1)
    page.get_by_test_id("everywhere-confirm").check()
    with page.expect_response(re.compile(r"/users/kill/$")) as answer:
        page.get_by_test_id("everywhere-button").click()
    assert answer.value.ok
    expect(page.get_by_test_id("message")).to_have_text("3 sessions ended in 3 apps")
    expect(page.get_by_test_id("everywhere-empty")).to_be_visible()

    assert rs.user_everywhere(id="mallory") == []
    assert r.keys("rs:*:us:mallory") == []
    assert rs.get(app="wiki", token=bystander) is not None
    audited = sorted((a.app, a.action, a.count) for a in KillAudit.objects.all())
    assert audited == [
        ("blog", "killsoid", 1),
        ("shop", "kill", 1),
        ("shop", "killsoid", 1),
        ("wiki", "killsoid", 1),
    ]
