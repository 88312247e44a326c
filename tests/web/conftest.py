"""Web test fixtures: operator accounts with each permission level, and the dashboard's store."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from django.contrib.auth.models import Permission, User
from django.test import Client

from dashboard.store import sessions
from sessions_core import RedisSessions

ROLES = ("anonymous", "staff", "viewer", "killer", "superuser")


@pytest.fixture(autouse=True)
def fast_passwords(settings: object) -> None:
    """PBKDF2's deliberate slowness costs a second per test account; these tests need none."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]


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


HTMX = {"HX-Request": "true"}


def htmx(target: str, **more: str) -> dict[str, str]:
    """Headers of an htmx request aimed at the element with id `target`."""
    return {**HTMX, "HX-Target": target, **more}


@pytest.fixture
def age(r: redis.Redis, store: RedisSessions) -> Callable[..., None]:
    """Make a session look last active `seconds` ago, as a Node app idle that long would."""

    def set_age(app: str, token: str, seconds: int) -> None:
        k = store.keys
        id, ttl = (str(v) for v in r.hmget(k.session(app, token), ["id", "ttl"]))
        la = int(r.time()[0]) - seconds
        pipe = r.pipeline()
        pipe.hset(k.session(app, token), "la", la)
        pipe.zadd(k.app_sessions(app), {f"{token}:{id}": la})
        pipe.zadd(k.app_users(app), {id: la})
        pipe.zadd(k.all_sessions, {f"{app}:{token}:{id}": la + int(ttl)})
        pipe.execute()

    return set_age
