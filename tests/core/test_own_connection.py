"""Single calls and batches run on a connection the instance keeps (wire.py), and stay correct
doing so."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from project.redis_server import RedisServer
from sessions_core import RedisSessions

APP = "myapp"


@pytest.fixture
def rs(redis_url: str) -> Iterator[RedisSessions]:
    """The sync class only: the kept connection is its own (the async class has none)."""
    with RedisSessions(url=redis_url) as store:
        yield store


def test_a_write_right_after_a_redis_restart_succeeds_on_a_fresh_connection(
    tmp_path: Path,
) -> None:
    with RedisServer(tmp_path) as server, RedisSessions(url=server.url) as rs:
        rs.create(app=APP, id="u1", ip="10.0.0.1")
        server.stop()
        server.start()

        token = rs.create(app=APP, id="u2", ip="10.0.0.1")["token"]

        session = rs.get(app=APP, token=token)
        assert session is not None and session["id"] == "u2"


def test_a_read_right_after_a_redis_restart_goes_again_at_once_without_a_retry(
    tmp_path: Path,
) -> None:
    # A read skips the idle check a write makes; a kept connection the restart closed is
    # found at the read and the read sent again on a new one, not left to the retries.
    with RedisServer(tmp_path) as server, RedisSessions(url=server.url, read_retries=0) as rs:
        token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
        assert rs.get(app=APP, token=token) is not None
        server.stop()
        server.start()  # not persistent: the session is gone, the script cache too

        assert rs.get(app=APP, token=token) is None
        assert rs.get_many(app=APP, tokens=[token]) == [None]


def test_threads_sharing_an_instance_each_get_their_own_sessions(rs: RedisSessions) -> None:
    batch = [{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(40)]
    tokens = [t["token"] for t in rs.create_many(app=APP, sessions=batch)]  # type: ignore[arg-type]
    wrong: list[str] = []

    def read(offset: int) -> None:
        for n in range(200):
            i = (offset + n) % len(tokens)
            session = rs.get(app=APP, token=tokens[i])
            if session is None or session["id"] != f"u{i}":
                wrong.append(f"u{i}")

    threads = [threading.Thread(target=read, args=(k * 5,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert wrong == []
    reads = sum(int(rs.redis.hget(f"rs:{APP}:{t}", "r") or 0) for t in tokens)
    assert reads == len(tokens) + 8 * 200  # every read counted once, none lost


def _ids_read(rs: RedisSessions, token: str, times: int) -> list[str | None]:
    """The distinct ids that `times` gets of one token returned."""
    ids = set()
    for _ in range(times):
        session = rs.get(app=APP, token=token)
        ids.add(session["id"] if session else None)
    return sorted(ids, key=str)


def _read_in_child(rs: RedisSessions, token: str, result: Any) -> None:
    result.put(_ids_read(rs, token, 300))


def test_a_forked_child_and_its_parent_read_at_once_without_crossing_replies(
    rs: RedisSessions,
) -> None:
    parents, childs = (rs.create(app=APP, id=id, ip="10.0.0.1")["token"] for id in ("p", "c"))
    assert rs.get(app=APP, token=parents) is not None  # the parent's connection is open
    context = multiprocessing.get_context("fork")
    result = context.Queue()

    child = context.Process(target=_read_in_child, args=(rs, childs, result))
    child.start()
    ids = _ids_read(rs, parents, 300)
    child.join(20)

    assert child.exitcode == 0
    assert result.get(timeout=5) == ["c"]
    assert ids == ["p"]


def test_close_hands_the_connection_back_to_a_callers_pool(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    rs = RedisSessions(url=redis_url, client=client)
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    rs.get(app=APP, token=token)

    rs.close()

    assert len(client.connection_pool._in_use_connections) == 0
    client.close()
