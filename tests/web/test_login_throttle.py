"""Login throttling: 10 failures for one account from one client lock that pair out for 15
minutes, the right password included, on the dashboard's login and the admin's alike."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

LOGINS = ["/accounts/login/", "/admin/login/"]
LOCKED = "Too many failed attempts for this account from your address. Try again in 15 minutes."


@pytest.fixture
def operators(make_user: Callable[..., User]) -> None:
    make_user("alice", "view_sessions")
    make_user("bob", "view_sessions")


def log_in(client: Client, path: str, username: str, password: str) -> Any:
    return client.post(path, {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(client: Client, path: str, username: str, times: int) -> Any:
    for _ in range(times):
        response = log_in(client, path, username, "wrong")
    return response


@pytest.mark.parametrize("path", LOGINS)
def test_ten_failures_lock_the_account_for_that_client_even_with_the_right_password(
    operators: None, path: str
) -> None:
    client = Client()
    ninth = fail(client, path, "alice", 9)
    assert ninth.status_code == 200
    assert LOCKED not in ninth.content.decode()

    tenth = fail(client, path, "alice", 1)
    assert tenth.status_code == 429
    assert LOCKED in tenth.content.decode()

    right = log_in(client, path, "alice", "pw")
    assert right.status_code == 429
    html = right.content.decode()
    assert LOCKED in html
    assert 'data-testid="login-locked"' in html and 'role="alert"' in html
    assert 'value="alice"' in html  # the login form again, its username kept
    assert not logged_in(client)


def test_failures_on_both_login_pages_count_together(operators: None) -> None:
    client = Client()
    fail(client, "/accounts/login/", "alice", 5)
    fail(client, "/admin/login/", "alice", 5)
    assert log_in(client, "/accounts/login/", "alice", "pw").status_code == 429
    assert not logged_in(client)


def test_another_account_from_the_same_client_is_not_locked(operators: None) -> None:
    client = Client()
    fail(client, "/accounts/login/", "alice", 10)
    response = log_in(client, "/accounts/login/", "bob", "pw")
    assert response.status_code == 302
    assert logged_in(client)


def test_the_same_account_from_another_client_is_not_locked(operators: None) -> None:
    fail(Client(REMOTE_ADDR="10.0.0.1"), "/accounts/login/", "alice", 10)
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert log_in(other, "/accounts/login/", "alice", "pw").status_code == 302
    assert logged_in(other)


def test_behind_a_proxy_clients_are_told_apart_by_the_configured_header(
    operators: None, settings: Any
) -> None:
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    # Both come through the proxy at 10.0.0.9; the first also forges an address of its own.
    attacker = Client(REMOTE_ADDR="10.0.0.9", headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.5"})
    operator = Client(REMOTE_ADDR="10.0.0.9", headers={"X-Forwarded-For": "198.51.100.7"})
    fail(attacker, "/accounts/login/", "alice", 10)
    assert log_in(attacker, "/accounts/login/", "alice", "pw").status_code == 429
    assert log_in(operator, "/accounts/login/", "alice", "pw").status_code == 302


def test_a_success_before_the_limit_clears_the_failures(operators: None) -> None:
    client = Client()
    fail(client, "/accounts/login/", "alice", 9)
    assert log_in(client, "/accounts/login/", "alice", "pw").status_code == 302
    client.logout()
    assert fail(client, "/accounts/login/", "alice", 9).status_code == 200
    assert log_in(client, "/accounts/login/", "alice", "pw").status_code == 302


def move_failures_back(minutes: float) -> None:
    """The clock moved on: every recorded failure happened `minutes` earlier."""
    attempts = apps.get_model("axes", "AccessAttempt").objects.all()
    for attempt in attempts:
        attempt.attempt_time -= timedelta(minutes=minutes)
        attempt.save()
    assert attempts.exists()


def test_the_lock_ends_after_the_cool_off(operators: None) -> None:
    client = Client()
    fail(client, "/accounts/login/", "alice", 10)
    move_failures_back(14.5)
    assert log_in(client, "/accounts/login/", "alice", "pw").status_code == 429
    # That refused try restarted the cool-off: 15 minutes from now, as the page said.
    move_failures_back(14.5)
    assert log_in(client, "/accounts/login/", "alice", "pw").status_code == 429
    move_failures_back(15.1)
    response = log_in(client, "/accounts/login/", "alice", "pw")
    assert response.status_code == 302
    assert logged_in(client)


def test_the_cool_off_is_a_setting(operators: None, settings: Any) -> None:
    settings.AXES_COOLOFF_TIME = timedelta(minutes=3)
    client = Client()
    response = fail(client, "/accounts/login/", "alice", 10)
    assert "Try again in 3 minutes." in response.content.decode()
    move_failures_back(3.1)
    assert log_in(client, "/accounts/login/", "alice", "pw").status_code == 302


def test_an_administrator_can_lift_a_lock_with_axes_reset_command(operators: None) -> None:
    client = Client(REMOTE_ADDR="10.0.0.1")
    fail(client, "/accounts/login/", "alice", 10)
    out = io.StringIO()
    call_command("axes_reset_ip_username", "10.0.0.1", "alice", stdout=out)
    assert out.getvalue().strip() == "1 attempts removed."
    assert log_in(client, "/accounts/login/", "alice", "pw").status_code == 302


def test_the_lockout_page_keeps_a_safe_next_and_drops_another_sites(operators: None) -> None:
    client = Client()
    for _ in range(10):
        response = client.post(
            "/accounts/login/?next=/audit/", {"username": "alice", "password": "wrong"}
        )
    assert 'name="next" value="/audit/"' in response.content.decode()
    evil = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw", "next": "https://evil.example/"}
    )
    assert evil.status_code == 429
    assert "evil.example" not in evil.content.decode()
    admin = fail(client, "/admin/login/", "alice", 1)
    assert 'name="next" value="/admin/"' in admin.content.decode()


def test_a_recorded_failure_keeps_neither_the_password_nor_the_csrf_token(operators: None) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    form = {"username": "alice", "password": "s3cret-guess", "csrfmiddlewaretoken": token}
    assert client.post("/accounts/login/", form).status_code == 200
    (attempt,) = apps.get_model("axes", "AccessAttempt").objects.all()
    assert (attempt.username, attempt.failures_since_start) == ("alice", 1)
    assert "s3cret-guess" not in attempt.post_data
    assert token not in attempt.post_data
