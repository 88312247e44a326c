"""Login throttling as an operator meets it: the lockout is said on the login page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def submit(page: Page, username: str, password: str) -> None:
    page.get_by_label(re.compile("username", re.I)).fill(username)
    page.get_by_label(re.compile("password", re.I)).fill(password)
    page.get_by_test_id("login-button").click()
    page.wait_for_load_state()


def test_after_ten_wrong_passwords_the_right_one_is_refused_with_a_clear_message(
    page: Page, operator_credentials: tuple[str, str]
) -> None:
    username, password = operator_credentials
    page.goto("/accounts/login/?next=/audit/")
    for _ in range(9):
        submit(page, username, "not the password")
        expect(page.get_by_test_id("login-error")).to_be_visible()
    submit(page, username, "not the password")
    submit(page, username, password)
    expect(page.get_by_test_id("login-locked")).to_have_text(
        "Too many failed attempts for this account from your address. Try again in 15 minutes."
    )
    expect(page.locator('input[name="next"]')).to_have_value("/audit/")
    page.goto("/audit/")  # not logged in
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
