"""The main navigation: a link to Django's admin for the accounts the admin shows something."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client, RequestFactory

from dashboard.templatetags.navigation import admin_link_shown
from sessions_core import RedisSessions
from tests.web.conftest import client_for

ADMIN_LINK = '<a href="/admin/" data-testid="nav-admin">Admin</a>'


@pytest.mark.parametrize(
    ("role", "shown"), [("superuser", True), ("killer", False), ("viewer", False)]
)
@pytest.mark.parametrize("url", ["/", "/apps/shop/", "/audit/", "/no/such/page/"])
def test_superusers_find_the_admin_in_the_navigation_and_operators_do_not(
    make_user: Callable[..., User], store: RedisSessions, role: str, shown: bool, url: str
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    html = client_for(role, make_user).get(url).content.decode()
    assert 'data-testid="nav-audit"' in html
    assert (ADMIN_LINK in html) is shown


def test_the_link_leads_to_an_admin_that_lets_a_superuser_manage_accounts(
    make_user: Callable[..., User], store: RedisSessions
) -> None:
    client = client_for("superuser", make_user)
    assert ADMIN_LINK in client.get("/").content.decode()
    admin = client.get("/admin/").content.decode()
    assert 'href="/admin/auth/user/"' in admin


def test_staff_who_may_manage_accounts_in_the_admin_see_the_link_too(
    make_user: Callable[..., User], store: RedisSessions
) -> None:
    lead = make_user("lead", "view_sessions")
    lead.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = Client()
    client.force_login(lead)
    assert ADMIN_LINK in client.get("/").content.decode()
    assert 'href="/admin/auth/user/"' in client.get("/admin/").content.decode()


def test_operators_get_no_link_to_an_admin_that_would_show_them_nothing(
    make_user: Callable[..., User], store: RedisSessions
) -> None:
    client = client_for("killer", make_user)
    assert ADMIN_LINK not in client.get("/").content.decode()
    admin = client.get("/admin/").content.decode()
    assert "have permission to view or edit anything" in admin


def test_staff_without_any_permission_see_no_link_on_the_403_page(
    make_user: Callable[..., User], db: None
) -> None:
    response = client_for("staff", make_user).get("/audit/")
    assert response.status_code == 403
    assert ADMIN_LINK not in response.content.decode()


def test_an_inactive_account_or_no_request_gets_no_link(
    make_user: Callable[..., User], rf: RequestFactory
) -> None:
    request = rf.get("/")
    request.user = make_user("gone", superuser=True)
    request.user.is_active = False
    assert admin_link_shown({"request": request}) is False
    assert admin_link_shown({}) is False  # the 500 page is rendered without a request


def test_the_login_page_has_no_navigation(client: Client, db: None) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert 'data-testid="nav-admin"' not in html
    assert 'data-testid="nav-audit"' not in html
