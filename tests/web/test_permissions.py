"""Who gets in: anonymous, staff without permission, viewer, killer, superuser, on every URL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from sessions_core import RedisSessions
from tests.web.conftest import ROLES, client_for, htmx

PAGES = ["/", "/apps/shop/", "/apps/shop/user/?id=u1", "/audit/"]
KILLS = ["/apps/shop/kill/session/", "/apps/shop/kill/user/", "/apps/shop/kill/all/"]
CAN_VIEW = {"viewer", "killer", "superuser"}
CAN_KILL = {"killer", "superuser"}


def kill_data(store: RedisSessions, url: str) -> dict[str, str]:
    """A valid form for each kill URL, aimed at user u1's one session."""
    if url.endswith("/session/"):
        (row,) = store.user_sessions(app="shop", id="u1")
        return {"id": "u1", "handle": row["handle"]}
    if url.endswith("/user/"):
        return {"id": "u1", "confirm": "yes"}
    return {"confirm": "shop"}


@pytest.fixture
def seeded(store: RedisSessions) -> RedisSessions:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    return store


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", PAGES)
def test_pages_let_in_only_staff_with_the_view_permission(
    role: str, url: str, make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    response = client_for(role, make_user).get(url)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    elif role in CAN_VIEW:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert b'data-testid="forbidden"' in response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", KILLS)
def test_kill_urls_answer_get_with_405_for_everyone(
    role: str, url: str, make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    response = client_for(role, make_user).get(url, {"id": "u1", "confirm": "shop"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert b"This address answers POST only." in response.content
    assert seeded.soid(app="shop", id="u1")["sessions"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", KILLS)
def test_kill_urls_end_sessions_only_for_the_kill_permission(
    role: str, url: str, make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    response = client_for(role, make_user).post(url, kill_data(seeded, url))
    alive = bool(seeded.soid(app="shop", id="u1")["sessions"])
    if role in CAN_KILL:
        assert response.status_code == 302
        assert not alive
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert alive


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", KILLS)
def test_kill_urls_refuse_posts_without_a_csrf_token(
    role: str, url: str, make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    client = client_for(role, make_user, enforce_csrf_checks=True)
    response = client.post(url, kill_data(seeded, url))
    assert response.status_code == 403
    assert seeded.soid(app="shop", id="u1")["sessions"]


def test_htmx_kills_pass_with_the_csrf_token_in_a_header(
    make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    client = client_for("killer", make_user, enforce_csrf_checks=True)
    page = client.get("/apps/shop/user/", {"id": "u1"})
    token = client.cookies["csrftoken"].value
    assert f'"X-CSRFToken": "{page.context["csrf_token"]}"'.encode() in page.content
    response = client.post(
        "/apps/shop/kill/user/",
        {"id": "u1", "confirm": "yes"},
        headers=htmx("user-sessions", **{"X-CSRFToken": token}),
    )
    assert response.status_code == 200
    assert not seeded.soid(app="shop", id="u1")["sessions"]


def test_permissions_can_come_from_a_group(
    make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    operators = Group.objects.create(name="operators")
    operators.permissions.add(
        Permission.objects.get(codename="view_sessions"),
        Permission.objects.get(codename="kill_sessions"),
    )
    user = make_user("grouped")
    user.groups.add(operators)
    client = Client()
    client.force_login(user)
    assert client.get("/apps/shop/").status_code == 200
    assert client.post("/apps/shop/kill/user/", {"id": "u1", "confirm": "yes"}).status_code == 302


def test_accounts_that_are_not_staff_are_refused_even_with_permissions(
    make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    user = make_user("outsider", "view_sessions", "kill_sessions", staff=False)
    client = Client()
    client.force_login(user)
    assert client.get("/apps/shop/").status_code == 403
    assert client.post("/apps/shop/kill/user/", {"id": "u1", "confirm": "yes"}).status_code == 403
    assert seeded.soid(app="shop", id="u1")["sessions"]


def test_login_page_refuses_accounts_that_are_not_staff(
    make_user: Callable[..., User], store: RedisSessions
) -> None:
    make_user("outsider", "view_sessions", staff=False)
    response = Client().post("/accounts/login/", {"username": "outsider", "password": "pw"})
    assert response.status_code == 200
    assert b'data-testid="login-error"' in response.content
    assert "_auth_user_id" not in response.wsgi_request.session


def test_login_page_lets_staff_in_and_sends_them_where_they_were_going(
    make_user: Callable[..., User], store: RedisSessions
) -> None:
    make_user("viewer", "view_sessions")
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "viewer", "password": "pw", "next": "/audit/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200


def test_logout_is_a_post_and_ends_the_login(
    make_user: Callable[..., User], store: RedisSessions
) -> None:
    client = client_for("viewer", make_user)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_an_expired_login_on_an_htmx_request_reloads_the_page_to_the_login_form(
    store: RedisSessions,
) -> None:
    response = Client().get(
        "/apps/shop/",
        headers=htmx("live", **{"HX-Current-URL": "http://testserver/apps/shop/?window=60"}),
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/apps/shop/%3Fwindow%3D60"


@pytest.mark.parametrize("role", ROLES)
def test_healthz_needs_no_login(
    role: str, make_user: Callable[..., User], store: RedisSessions
) -> None:
    response = client_for(role, make_user).get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("group", "can_view", "can_kill"),
    [("Session viewers", True, False), ("Session killers", True, True)],
)
def test_ready_made_groups_grant_each_permission_level(
    group: str,
    can_view: bool,
    can_kill: bool,
    make_user: Callable[..., User],
    seeded: RedisSessions,
) -> None:
    user = make_user("member")
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    assert client.get("/apps/shop/").status_code == (200 if can_view else 403)
    response = client.post("/apps/shop/kill/user/", {"id": "u1", "confirm": "yes"})
    assert response.status_code == (302 if can_kill else 403)
    assert bool(seeded.soid(app="shop", id="u1")["sessions"]) is not can_kill
