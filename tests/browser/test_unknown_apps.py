"""An app that disappears while its page is open: the next poll reloads the page as a 404."""

from __future__ import annotations

import redis
from playwright.sync_api import Page, expect

from sessions_core import RedisSessions

from .test_live_updates import POLL_MS


def test_the_page_of_an_app_that_is_gone_turns_into_the_404_page(
    operator: Page, rs: RedisSessions, r: redis.Redis
) -> None:
    page = operator
    page.clock.install()
    rs.create(app="shop", id="pia", ip="10.7.0.1")
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("count-sessions")).to_have_text("1")

    rs.killall(app="shop")
    r.srem(rs.keys.apps_registry, "shop")  # what the wipe loop's discovery does to an empty app
    with page.expect_navigation():
        page.clock.fast_forward(POLL_MS)
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_test_id("not-found")).to_contain_text("/apps/shop/")
