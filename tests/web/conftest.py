"""Web test fixtures: operator accounts with each permission level, and the dashboard's store."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from dashboard.store import sessions
from sessions_core import RedisSessions

ROLES = ("anonymous", "staff", "viewer", "killer", "superuser")


@pytest.fixture
def store(redis_settings: object) -> RedisSessions:
    """The dashboard's own store on the test Redis (its handles are the ones pages show)."""
    return sessions()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(name: str, *perms: str, staff: bool = True, superuser: bool = False) -> User:
        if superuser:
            return User.objects.create_superuser(name, password="pw")
        user = User.objects.create_user(name, password="pw", is_staff=staff)
        for perm in perms:
            user.user_permissions.add(Permission.objects.get(codename=perm))
        return user

    return make


def client_for(role: str, make_user: Callable[..., User], **kwargs: object) -> Client:
    """A client logged in as an account of `role` (one of ROLES)."""
    client = Client(**kwargs)  # type: ignore[arg-type]
    users = {
        "staff": lambda: make_user("staff"),
        "viewer": lambda: make_user("viewer", "view_sessions"),
        "killer": lambda: make_user("killer", "view_sessions", "kill_sessions"),
        "superuser": lambda: make_user("root", superuser=True),
    }
    if role != "anonymous":
        client.force_login(users[role]())
    return client


@pytest.fixture
def viewer(make_user: Callable[..., User], store: RedisSessions) -> Client:
    return client_for("viewer", make_user)


@pytest.fixture
def killer(make_user: Callable[..., User], store: RedisSessions) -> Client:
    return client_for("killer", make_user)


HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str) -> dict[str, str]:
    """Headers of an htmx request aimed at the element with id `target`."""
    return {**HTMX, "HTTP_HX_TARGET": target}
