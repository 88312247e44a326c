"""Fixtures of the sessions_core tests (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from sessions_core import RedisSessions
from tests.stores import KINDS, open_store

from .helpers import CacheChannel

# Each example talks to a real Redis: few examples, no per-example deadline. The function
# scoped fixtures are safe to share between examples: every example makes its own sessions.
settings.register_profile(
    "sessions_core",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

APP = "myapp"


@pytest.fixture(params=KINDS)
def rs(request: pytest.FixtureRequest, redis_url: str) -> Iterator[RedisSessions]:
    """The library under test, once as RedisSessions and once as AsyncRedisSessions."""
    yield from open_store(request.param, redis_url)


@pytest.fixture
def cache_channel(redis_url: str) -> Iterator[CacheChannel]:
    with CacheChannel(redis_url) as channel:
        yield channel


@pytest.fixture
def other(redis_url: str) -> Iterator[RedisSessions]:
    """A second instance on the same Redis, as another app server process would have."""
    store = RedisSessions(url=redis_url)
    yield store
    store.close()


@pytest.fixture
def token(rs: RedisSessions) -> str:
    """One session of `user1001` in `myapp`."""
    return rs.create(app=APP, id="user1001", ip="192.168.22.58", ttl=3600)["token"]
