"""Fixtures for the real local deployments: a Redis Cluster and a Sentinel set-up.

A pytest plugin (tests/conftest.py lists it in `pytest_plugins`), so every test folder can use
them. Each deployment starts once per run, the first time a test asks for it, and is stopped at
the end; the function-scoped `redis_cluster_url` and `redis_sentinel_url` first bring back
anything a fault test left broken (waiting for its failover, restarting killed processes), then
flush the data. Like `redis_url`, they only ever talk to the processes they started.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from project.redis_cluster import RedisClusterServers
from project.redis_sentinel import SentinelServers


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterServers]:
    """6 redis-server processes in cluster mode: 3 masters, 3 replicas."""
    with RedisClusterServers() as cluster:
        yield cluster


@pytest.fixture
def redis_cluster_url(redis_cluster: RedisClusterServers) -> str:
    """The URL of one node of the healthy test cluster, every master flushed."""
    redis_cluster.heal()
    redis_cluster.flushall()
    return redis_cluster.url


@pytest.fixture(scope="session")
def redis_sentinel() -> Iterator[SentinelServers]:
    """A primary, a replica and 3 sentinels monitoring them as `rsmaster`."""
    with SentinelServers() as sentinel:
        yield sentinel


@pytest.fixture
def redis_sentinel_url(redis_sentinel: SentinelServers) -> str:
    """`redis+sentinel://.../rsmaster/0` of the healthy test set-up, its data flushed."""
    redis_sentinel.heal()
    redis_sentinel.flushall()
    return redis_sentinel.url
