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

# The deployments the library's suite runs on; each has its URL fixture (tests/conftest.py,
# tests/deployments/fixtures.py), every one a real server set-up of the test run's own.
URLS = {
    "standalone": "redis_url",
    "cluster": "redis_cluster_url",
    "sentinel": "redis_sentinel_url",
}
# Fixtures that reach the standalone server itself (raw keys of the 4.0.0 layout, a second
# instance on it, a proxy in front of it): a test using one is about that server only.
STANDALONE_ONLY = {"r", "redis_url", "redis_server", "cache_channel", "proxy", "nowhere"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test of `rs` runs on each deployment, unless it reads the 4.0.0 wire layout
    (a standalone-only fixture, or the `layout_4_0_0` mark)."""
    if "deployment" not in metafunc.fixturenames:
        return
    wire = metafunc.definition.get_closest_marker("layout_4_0_0") is not None
    wire = wire or bool(STANDALONE_ONLY & set(metafunc.fixturenames))
    metafunc.parametrize("deployment", ["standalone"] if wire else list(URLS))


@pytest.fixture
def deployment() -> str:
    return "standalone"


@pytest.fixture(params=KINDS)
def rs(request: pytest.FixtureRequest, deployment: str) -> Iterator[RedisSessions]:
    """The library under test, as RedisSessions and as AsyncRedisSessions, on each
    deployment (standalone, cluster, Sentinel)."""
    yield from open_store(request.param, request.getfixturevalue(URLS[deployment]))


@pytest.fixture
def cache_channel(redis_url: str) -> Iterator[CacheChannel]:
    with CacheChannel(redis_url) as channel:
        yield channel


@pytest.fixture
def other(request: pytest.FixtureRequest, deployment: str) -> Iterator[RedisSessions]:
    """A second instance on the same Redis, as another app server process would have."""
    store = RedisSessions(url=request.getfixturevalue(URLS[deployment]))
    yield store
    store.close()


@pytest.fixture
def token(rs: RedisSessions) -> str:
    """One session of `user1001` in `myapp`."""
    return rs.create(app=APP, id="user1001", ip="192.168.22.58", ttl=3600)["token"]
