"""Small helpers shared by the browser tests."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

from dashboard.store import sessions as dashboard_store
from sessions_core.keys import Keys

KEYS = Keys("rs")


def exact(text: str) -> re.Pattern[str]:
    """A pattern matching exactly `text` (Playwright's has_text otherwise matches substrings)."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def handle_of(app: str, token: str) -> str:
    """The handle the dashboard shows for a session (its HMAC; pages never show tokens)."""
    return dashboard_store().handle(app=app, token=token)


def session_row(page: Page, handle: str) -> Locator:
    return page.locator(f'[data-testid="session-row"][data-handle="{handle}"]')


def user_link(page: Page, id: str) -> Locator:
    """The table's links to the user page of `id` (exact match for plain ids).

    Playwright mangles regexes holding quotes or '>' in selectors, so ids with such
    characters match as substrings; the hostile ids of the tests are no substrings of others.
    """
    plain = re.fullmatch(r"[\w.@ -]+", id) is not None
    return page.get_by_test_id("user-link").filter(has_text=exact(id) if plain else id)


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until `target` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} never got the focus within {limit} presses of Tab")


def log_in(page: Page, username: str, password: str) -> None:
    """Log in through the real login form, like a person."""
    page.goto("/accounts/login/")
    page.get_by_label(re.compile("username", re.I)).fill(username)
    page.get_by_label(re.compile("password", re.I)).fill(password)
    page.get_by_role("button", name=re.compile("log in|sign in", re.I)).click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
