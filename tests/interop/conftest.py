"""Fixtures for the Node interop tests: the real redis-sessions 4.0.0 on the test Redis.

One `node node/driver.mjs` process serves the whole run, with two instances of the original
on the shared test server: `node_rs` (no cache) and `node_cached` (cachetime 60 s). Both
have the original's wipe timer off; tests run its wipe pass with `.wipe()`.

The tests skip, loudly, only when `node` is not on PATH or `make node` has not installed
node/node_modules.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator

import pytest
import redis

from project.redis_server import RedisServer
from sessions_core import RedisSessions
from tests.stores import KINDS, open_store

from .node_driver import PACKAGE, NodeDriver, NodeSessions

NAMESPACE = "rs"


def _missing_node() -> str | None:
    if shutil.which("node") is None:
        return "`node` is not on PATH: install Node.js >= 16 to run them"
    if not PACKAGE.exists():
        return f"{PACKAGE.parent} is missing: run `make node` (npm ci --prefix node)"
    return None


@pytest.fixture(scope="session")
def node_driver(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[NodeDriver, NodeSessions, NodeSessions]]:
    reason = _missing_node()
    if reason is not None:
        message = f"NODE INTEROP TESTS SKIPPED: {reason}"
        warnings.warn(message, stacklevel=1)
        print(f"\n!!! {message}")
        pytest.skip(message)
    node = shutil.which("node")
    assert node is not None
    stderr_path = tmp_path_factory.mktemp("node") / "driver.stderr"
    with stderr_path.open("wb") as stderr:
        driver = NodeDriver(node, stderr)
        try:
            server = {"host": "127.0.0.1", "port": redis_server.port, "namespace": NAMESPACE}
            plain = driver.open("plain", **server)
            cached = driver.open("cached", **server, cachetime=60)
            yield driver, plain, cached
        finally:
            driver.close()


@pytest.fixture(params=KINDS)
def rs(request: pytest.FixtureRequest, redis_url: str) -> Iterator[RedisSessions]:
    """The library under test, once as RedisSessions and once as AsyncRedisSessions."""
    yield from open_store(request.param, redis_url, namespace=NAMESPACE)


@pytest.fixture
def node_rs(
    node_driver: tuple[NodeDriver, NodeSessions, NodeSessions], redis_url: str
) -> NodeSessions:
    """The original without a cache, on the (flushed) test Redis."""
    return node_driver[1]


@pytest.fixture
def node_cached(
    node_driver: tuple[NodeDriver, NodeSessions, NodeSessions], redis_url: str
) -> NodeSessions:
    """The original with `cachetime: 60`, subscribed to `rs:cache`."""
    return node_driver[2]


@pytest.fixture(params=KINDS)
def rs_cached(request: pytest.FixtureRequest, redis_url: str) -> Iterator[RedisSessions]:
    """This library (each class) with its in-process cache on, listener subscribed."""
    for store in open_store(request.param, redis_url, namespace=NAMESPACE, cachetime=60):
        assert store.cache is not None
        assert store.cache.subscribed.wait(5), "the cache listener did not subscribe"
        yield store


@pytest.fixture
def raw(r: redis.Redis) -> redis.Redis:
    """A raw client for reading and ageing what is stored."""
    return r
