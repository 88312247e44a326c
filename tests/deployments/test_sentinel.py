"""The local Sentinel set-up of the test suite (project/redis_sentinel.py), with redis-py alone:
a Sentinel client finds the primary, follows it across a SIGKILL within 15 s, and a write the
replica acknowledged before the kill survives."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import redis
from redis.sentinel import Sentinel

from project.redis_sentinel import SentinelServers

from .helpers import FAILOVER_DEADLINE, FAST_FAIL, fast_retry, until_it_works


def sentinel_client(servers: SentinelServers) -> Any:
    """A redis-py Sentinel on the set-up's sentinels (typed Any: redis.sentinel is untyped)."""
    return Sentinel(  # type: ignore[no-untyped-call]
        servers.sentinel_addresses, sentinel_kwargs=FAST_FAIL, **FAST_FAIL
    )


def test_url_names_the_three_sentinels_and_the_service(
    redis_sentinel: SentinelServers, redis_sentinel_url: str
) -> None:
    ports = [port for _, port in redis_sentinel.sentinel_addresses]
    assert len(ports) == 3
    assert redis_sentinel_url == (
        "redis+sentinel://" + ",".join(f"127.0.0.1:{port}" for port in ports) + "/rsmaster/0"
    )
    assert redis_sentinel.service_name == "rsmaster"


def test_sentinel_client_writes_to_the_primary_and_reads_the_replica(
    redis_sentinel: SentinelServers, redis_sentinel_url: str
) -> None:
    sentinel = sentinel_client(redis_sentinel)
    assert sentinel.discover_master("rsmaster") == ("127.0.0.1", redis_sentinel.primary_port())
    assert sentinel.discover_slaves("rsmaster") == [
        ("127.0.0.1", port) for port in redis_sentinel.replica_ports()
    ]
    primary = sentinel.master_for("rsmaster", decode_responses=True)
    assert primary.dbsize() == 0  # the fixture flushed it
    pipe = primary.pipeline(transaction=False)
    pipe.set("k", "v")
    pipe.wait(1, 5000)
    assert pipe.execute() == [True, 1]
    replica = sentinel.slave_for("rsmaster", decode_responses=True)
    assert replica.get("k") == "v"
    primary.close()
    replica.close()


def test_client_follows_the_primary_across_a_kill_keeping_acknowledged_writes(
    redis_sentinel: SentinelServers, redis_sentinel_url: str
) -> None:
    sentinel = sentinel_client(redis_sentinel)
    primary = sentinel.master_for("rsmaster", decode_responses=True, retry=fast_retry())
    old_port = redis_sentinel.primary_port()
    (replica_port,) = redis_sentinel.replica_ports()
    pipe = primary.pipeline(transaction=False)
    pipe.set("acknowledged", "kept")
    pipe.wait(1, 5000)
    assert pipe.execute() == [True, 1]

    assert redis_sentinel.kill_primary() == old_port
    killed_at = time.monotonic()
    deadline = killed_at + FAILOVER_DEADLINE
    _, errors = until_it_works(lambda: primary.set("after-failover", "written"), deadline)
    recovered_after = time.monotonic() - killed_at

    assert errors, "the first write after SIGKILL should have failed"
    assert recovered_after < FAILOVER_DEADLINE
    assert primary.get("acknowledged") == "kept"
    assert primary.get("after-failover") == "written"
    assert redis_sentinel.wait_for_failover(timeout=deadline - time.monotonic()) == replica_port
    assert sentinel.discover_master("rsmaster") == ("127.0.0.1", replica_port)
    with redis.Redis(port=replica_port, decode_responses=True) as promoted:
        assert promoted.info("replication")["role"] == "master"

    # The old primary comes back as a replica of the new one, and the client stays put.
    redis_sentinel.restart(old_port)
    assert redis_sentinel.replica_ports() == [old_port]
    assert primary.get("acknowledged") == "kept"
    primary.close()


def test_stop_ends_every_process_and_removes_its_directory() -> None:
    with SentinelServers() as servers:
        processes = [*servers.servers.values(), *servers.sentinels.values()]
        pids = [process.process.pid for process in processes if process.process]
        directory = servers.dir
        assert len(pids) == 5
        assert directory is not None
        assert directory.is_dir()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"redis-server {pid} still running"
    assert not directory.exists()
