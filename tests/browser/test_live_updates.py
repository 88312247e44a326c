"""Counts follow Redis by themselves every 5 s, unless the operator pauses them.

The page's clock is Playwright's fake clock: jumping it forward fires htmx's 5 s poll at
once, so these tests wait for the poll's answer, never for wall-clock time.
"""

from __future__ import annotations

from playwright.sync_api import Page, Request, expect

from sessions_core import RedisSessions

POLL_MS = 5_000


def is_poll(request: Request) -> bool:
    """A live refresh: an htmx GET aimed at the counts, not a click's request."""
    headers = request.headers
    return (
        request.method == "GET"
        and headers.get("hx-request") == "true"
        and headers.get("hx-target") in {"live", "apps-table"}
    )


def test_app_page_counts_change_without_a_reload_when_sessions_are_created_elsewhere(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    page.clock.install()
    rs.create(app="shop", id="erin", ip="10.4.0.1")
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("count-sessions")).to_have_text("1")
    expect(page.get_by_test_id("count-users")).to_have_text("1")
    page.evaluate("window.__sameDocument = true")

    for i in range(3):
        rs.create(app="shop", id=f"frank{i}", ip="10.4.0.2")
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.fast_forward(POLL_MS)

    expect(page.get_by_test_id("count-sessions")).to_have_text("4")
    expect(page.get_by_test_id("count-users")).to_have_text("4")
    expect(page.get_by_test_id("count-active-60")).to_have_text("4")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"


def test_apps_page_counts_change_without_a_reload_and_new_apps_appear(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    page.clock.install()
    rs.create(app="shop", id="gina", ip="10.5.0.1")
    page.goto("/")
    shop = page.get_by_test_id("app-row").and_(page.locator('[data-app="shop"]'))
    expect(shop.get_by_test_id("count-sessions")).to_have_text("1")
    page.evaluate("window.__sameDocument = true")

    rs.create(app="shop", id="gina", ip="10.5.0.2")
    rs.create(app="blog", id="hank", ip="10.5.0.3")
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.fast_forward(POLL_MS)

    expect(shop.get_by_test_id("count-sessions")).to_have_text("2")
    expect(shop.get_by_test_id("count-users")).to_have_text("1")
    blog = page.get_by_test_id("app-row").and_(page.locator('[data-app="blog"]'))
    expect(blog.get_by_test_id("count-sessions")).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"


def test_pause_switch_stops_the_live_refresh_until_it_is_switched_off(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    page.clock.install()
    rs.create(app="shop", id="ivan", ip="10.6.0.1")
    polls: list[Request] = []
    page.on("request", lambda request: polls.append(request) if is_poll(request) else None)
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("count-sessions")).to_have_text("1")
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.fast_forward(POLL_MS)  # live before the pause

    page.get_by_test_id("pause-switch").check()
    rs.create(app="shop", id="judy", ip="10.6.0.2")
    page.clock.run_for(3 * POLL_MS)  # three poll ticks, all held back
    expect(page.get_by_test_id("count-sessions")).to_have_text("1")

    page.get_by_test_id("pause-switch").uncheck()
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.fast_forward(POLL_MS)
    expect(page.get_by_test_id("count-sessions")).to_have_text("2")
    # Requests are reported in order: had a paused tick polled, it would be counted here.
    assert len(polls) == 2
