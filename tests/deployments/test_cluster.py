"""The local Redis Cluster of the test suite (project/redis_cluster.py), with redis-py alone:
keys spread over its 3 masters, and a master killed fails over within 15 s without losing a
write its replica acknowledged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

from project.redis_cluster import RedisClusterServers

from .helpers import FAILOVER_DEADLINE, FAST_FAIL, fast_retry, until_it_works


@pytest.fixture
def cluster_client(redis_cluster_url: str) -> Iterator[RedisCluster]:
    client = RedisCluster.from_url(
        redis_cluster_url, decode_responses=True, retry=fast_retry(), **FAST_FAIL
    )
    yield client
    client.close()


def plain(port: int) -> redis.Redis:
    return redis.Redis(port=port, decode_responses=True, **FAST_FAIL)


def key_on(slots: tuple[tuple[int, int], ...], prefix: str) -> str:
    """A key whose slot is in one of the inclusive `slots` ranges."""
    for i in range(100_000):
        key = f"{prefix}:{i}"
        slot = key_slot(key.encode())
        if any(first <= slot <= last for first, last in slots):
            return key
    raise AssertionError("no key found")


def test_three_masters_three_replicas(
    redis_cluster: RedisClusterServers, redis_cluster_url: str
) -> None:
    masters = redis_cluster.masters()
    assert len(masters) == 3
    assert all(len(master.replica_ports) == 1 for master in masters)
    assert sum(last - first + 1 for m in masters for first, last in m.slots) == 16384
    assert {m.port for m in masters} | {p for m in masters for p in m.replica_ports} == set(
        redis_cluster.ports
    )
    assert redis_cluster_url in redis_cluster.urls
    assert [(node.host, node.port) for node in redis_cluster.startup_nodes] == [
        ("127.0.0.1", port) for port in redis_cluster.ports
    ]


def test_keys_spread_over_the_three_masters(
    redis_cluster: RedisClusterServers, cluster_client: RedisCluster
) -> None:
    masters = redis_cluster.masters()
    for master in masters:
        with plain(master.port) as client:
            assert client.dbsize() == 0  # the fixture flushed every master
    pipe = cluster_client.pipeline()  # type: ignore[no-untyped-call]
    for i in range(300):
        pipe.set(f"spread:{i}", i)
    assert pipe.execute() == [True] * 300
    counts = []
    for master in masters:
        with plain(master.port) as client:
            counts.append(client.dbsize())
    assert sum(counts) == 300
    assert all(count >= 60 for count in counts), counts  # each master 20 % or more


def test_master_killed_fails_over_keeping_acknowledged_writes(
    redis_cluster: RedisClusterServers, cluster_client: RedisCluster
) -> None:
    victim = redis_cluster.masters()[0]
    survivor = key_on(victim.slots, "acknowledged")
    # Written on the master and acknowledged by its replica (WAIT on the same connection).
    with plain(victim.port) as client:
        pipe = client.pipeline(transaction=False)
        pipe.set(survivor, "kept")
        pipe.wait(1, 5000)
        assert pipe.execute() == [True, 1]
    later = key_on(victim.slots, "after-failover")

    redis_cluster.kill_master(victim.port)
    killed_at = time.monotonic()
    deadline = killed_at + FAILOVER_DEADLINE
    _, errors = until_it_works(lambda: cluster_client.set(later, "written"), deadline)
    recovered_after = time.monotonic() - killed_at

    assert errors, "the first write after SIGKILL should have failed"
    assert recovered_after < FAILOVER_DEADLINE
    assert cluster_client.get(survivor) == "kept"
    assert cluster_client.get(later) == "written"
    new_port = redis_cluster.wait_for_failover(victim.port, timeout=deadline - time.monotonic())
    assert new_port == victim.replica_ports[0]
    assert redis_cluster.master_for_slot(key_slot(survivor.encode())) == new_port

    # The old master comes back as a replica of the one that replaced it.
    redis_cluster.restart(victim.port)
    promoted = next(m for m in redis_cluster.masters() if m.port == new_port)
    assert promoted.replica_ports == (victim.port,)
    assert redis_cluster.healthy()


def test_stop_ends_every_process_and_removes_its_directory() -> None:
    with RedisClusterServers() as cluster:
        pids = [node.process.pid for node in cluster.nodes.values() if node.process]
        directory = cluster.dir
        assert len(pids) == 6
        assert directory is not None
        assert directory.is_dir()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"redis-server {pid} still running"
    assert not directory.exists()
    assert all(not node.alive for node in cluster.nodes.values())
