"""What the browser never sees (tokens), and what it sees when Redis goes away and comes back."""

from __future__ import annotations

from playwright.sync_api import Page, Request, expect

from project.redis_server import RedisServer
from sessions_core import RedisSessions

from .support import user_link


def test_no_page_request_or_form_ever_carries_a_session_token(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    tokens = [
        rs.create(app="shop", id="mia", ip="10.9.0.1", d={"k": "v"})["token"] for _ in range(3)
    ]
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request))

    page.goto("/")
    pages = [page.content()]
    page.get_by_test_id("app-link").click()
    expect(page.get_by_test_id("session-row")).to_have_count(3)
    pages.append(page.content())
    user_link(page, "mia").first.click()
    expect(page.get_by_test_id("session-row")).to_have_count(3)
    pages.append(page.content())
    page.get_by_test_id("kill-session").first.click()
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    pages.append(page.content())
    page.goto("/audit/")
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    pages.append(page.content())

    assert len(sent) >= 6
    for token in tokens:
        assert not any(token in html for html in pages)
        for request in sent:
            assert token not in request.url
            assert token not in (request.post_data or "")
            assert not any(token in value for value in request.headers.values())


def test_a_redis_outage_shows_a_banner_and_the_page_recovers_by_itself(
    operator: Page, rs: RedisSessions, redis_server: RedisServer
) -> None:
    page = operator
    page.clock.install()
    rs.create(app="shop", id="noah", ip="10.9.0.2")
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("count-sessions")).to_have_text("1")
    banner = page.get_by_test_id("unavailable-banner")
    expect(banner).to_be_hidden()

    redis_server.stop()
    try:
        with page.expect_response(lambda response: response.status == 503):
            page.clock.fast_forward(5_000)
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Redis is unreachable")
        expect(page.get_by_test_id("count-sessions")).to_have_text("1")  # last known, kept
    finally:
        redis_server.start()  # same port, empty: the store comes back without its data
    # The app's servers write again (an app unknown to the store is a 404, its page reloaded).
    rs.create(app="shop", id="olga", ip="10.9.0.3")
    rs.killall(app="shop")

    with page.expect_response(lambda response: response.status == 200):
        page.clock.fast_forward(5_000)
    expect(banner).to_be_hidden()
    expect(page.get_by_test_id("count-sessions")).to_have_text("0")
