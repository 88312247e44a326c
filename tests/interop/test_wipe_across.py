"""Sessions timed out on either side are removed by the other side's wipe."""

from __future__ import annotations

import pytest
import redis

from sessions_core import RedisSessions

from .node_driver import NodeSessions
from .stored import age

pytestmark = pytest.mark.interop

APP = "wiped"


def test_a_timed_out_session_reads_as_missing_on_both_sides_before_any_wipe(
    node_rs: NodeSessions, rs: RedisSessions, raw: redis.Redis
) -> None:
    by_node = node_rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=60)["token"]
    by_python = rs.create(app=APP, id="u2", ip="10.0.0.1", ttl=60)["token"]
    for token in (by_node, by_python):
        age(raw, APP, token, 61)

    assert rs.get_many(app=APP, tokens=[by_node, by_python]) == [None, None]
    assert [node_rs.get(app=APP, token=t) for t in (by_node, by_python)] == [None, None]


def test_python_wipe_removes_timed_out_node_sessions_and_keeps_live_ones(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    old = [node_rs.create(app=APP, id=f"old{i}", ip="10.0.0.1", ttl=60)["token"] for i in range(3)]
    live = node_rs.create(app=APP, id="live", ip="10.0.0.1", ttl=60)["token"]
    for token in old:
        age(r, APP, token, 120)

    assert rs.wipe() == 3

    assert [r.exists(f"rs:{APP}:{t}") for t in old] == [0, 0, 0]
    assert node_rs.get(app=APP, token=live)["id"] == "live"
    assert node_rs.activity(app=APP, deltaTime=600) == {"activity": 1}
    assert r.zrange("rs:SESSIONS", 0, -1) == [f"{APP}:{live}:live"]
    assert not r.keys(f"rs:{APP}:us:old*")


def test_node_wipe_removes_timed_out_python_sessions_and_keeps_live_ones(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    batch = [{"id": f"old{i}", "ip": "10.0.0.1", "ttl": 60} for i in range(3)]
    old = [t["token"] for t in rs.create_many(app=APP, sessions=batch)]  # type: ignore[arg-type]
    live = rs.create(app=APP, id="live", ip="10.0.0.1", ttl=60)["token"]
    for token in old:
        age(r, APP, token, 120)

    node_rs.wipe()

    assert [r.exists(f"rs:{APP}:{t}") for t in old] == [0, 0, 0]
    session = rs.get(app=APP, token=live)
    assert session is not None and session["id"] == "live"
    assert rs.activity(app=APP, delta_time=600) == {"activity": 1}
    assert r.zrange("rs:SESSIONS", 0, -1) == [f"{APP}:{live}:live"]
    assert rs.wipe() == 0


def test_node_wipe_of_an_id_with_colons_leaves_index_entries_that_python_wipe_removes(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    """The original's wipe splits `{app}:{token}:{id}` at every ':' and truncates the id.

    It deletes the session hash but removes the index entries of the truncated id (none),
    so `{ns}:SESSIONS`, `_sessions`, `_users` and the `us:` set keep the dead session and
    every later Node wipe retries it. Our wipe splits at the first two colons only and
    clears the leftovers; it counts them as removed sessions.
    """
    token = rs.create(app=APP, id="user:42", ip="10.0.0.1", ttl=60)["token"]
    age(r, APP, token, 120)

    node_rs.wipe()

    assert r.exists(f"rs:{APP}:{token}") == 0
    assert r.zrange("rs:SESSIONS", 0, -1) == [f"{APP}:{token}:user:42"]
    assert r.zrange(f"rs:{APP}:_sessions", 0, -1) == [f"{token}:user:42"]
    assert r.smembers(f"rs:{APP}:us:user:42") == {token}

    node_rs.wipe()  # a second Node pass changes nothing
    assert r.zrange("rs:SESSIONS", 0, -1) == [f"{APP}:{token}:user:42"]

    assert rs.wipe() == 1

    assert sorted(r.keys("*")) == ["rs:_apps", "rs:_wipe"]
