"""Under the Content-Security-Policy every page loads in Chromium with no violation and no
console message, and what used to be inline script still works: polling, the pause switch,
the kill-all form's reset."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from sessions_core import RedisSessions

from .test_live_updates import POLL_MS, is_poll

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `in ${event.sourceFile}:${event.lineNumber} (${event.sample})`
  );
});
"""


class Watch:
    """Console messages and policy violations of one page, across its navigations."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self.on_console)

    def on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text} ({message.location})")

    def visit(self, url: str, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == status, url
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in [d.strip() for d in csp.split(";")], csp
        assert "unsafe" not in csp, csp
        self.page.wait_for_load_state("load")
        if status != 200:  # Chromium logs an error status of the page itself: that one is meant
            said = f"the server responded with a status of {status}"
            self.console = [m for m in self.console if not (said in m and response.url in m)]
        self.assert_clean(url)

    def assert_clean(self, where: str) -> None:
        violations = self.page.evaluate("window.__violations || []")
        assert violations == [], f"policy violations on {where}: {violations}"
        assert self.console == [], f"console messages on {where}: {self.console}"


@pytest.fixture
def watch(context: BrowserContext, operator: Page) -> Watch:
    context.add_init_script(LISTEN)
    return Watch(operator)


@pytest.fixture
def sessions(rs: RedisSessions) -> RedisSessions:
    rs.create(app="shop", id="u1", ip="10.0.0.1", d={"plan": "pro", "unread": 3})
    rs.create(app="shop", id="u2", ip="10.0.0.2")
    return rs


def test_every_page_loads_without_a_policy_violation_or_a_console_message(
    watch: Watch, sessions: RedisSessions
) -> None:
    page = watch.page
    watch.visit("/")
    watch.visit("/apps/shop/")
    page.get_by_test_id("user-link").first.click()
    expect(page.get_by_test_id("user-id")).to_be_visible()
    watch.assert_clean("the user page")
    page.get_by_test_id("kill-session").first.click()  # an htmx swap, and an audit entry
    expect(page.get_by_test_id("message")).to_have_text("1 session ended")
    watch.assert_clean("the user page after a kill")
    watch.visit("/audit/")
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    watch.visit("/admin/")
    watch.visit("/apps/nosuch/", status=404)
    watch.visit("/no/such/page/", status=404)
    watch.visit("/apps/shop/?window=7", status=400)

    watch.visit("/")
    page.get_by_test_id("logout-button").click()
    page.wait_for_url("**/accounts/login/")
    watch.assert_clean("the login page after logging out")
    watch.visit("/accounts/login/")
    watch.visit("/admin/login/")


def test_polling_pausing_and_the_kill_all_reset_work_under_the_policy(
    watch: Watch, sessions: RedisSessions
) -> None:
    page = watch.page
    page.clock.install()
    polls: list[Any] = []
    page.on("request", lambda request: polls.append(request) if is_poll(request) else None)
    watch.visit("/apps/shop/")
    expect(page.get_by_test_id("count-sessions")).to_have_text("2")

    sessions.create(app="shop", id="u3", ip="10.0.0.3")
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.fast_forward(POLL_MS)
    expect(page.get_by_test_id("count-sessions")).to_have_text("3")

    page.get_by_test_id("pause-switch").check()
    sessions.create(app="shop", id="u4", ip="10.0.0.4")
    page.clock.run_for(2 * POLL_MS)
    expect(page.get_by_test_id("count-sessions")).to_have_text("3")
    assert len(polls) == 1

    # A kill refreshes the counts even while paused: that request is no poll tick.
    page.get_by_test_id("killall-confirm").fill("shop")
    with page.expect_response(lambda response: is_poll(response.request)):
        page.get_by_test_id("killall-button").click()
    expect(page.get_by_test_id("message")).to_have_text("4 sessions ended")
    expect(page.get_by_test_id("killall-confirm")).to_have_value("")
    expect(page.get_by_test_id("count-sessions")).to_have_text("0")
    assert len(polls) == 2
    watch.assert_clean("the app page")
