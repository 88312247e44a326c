"""The hot paths run their Lua scripts by SHA and reload them when the server forgot them."""

from __future__ import annotations

import redis

from sessions_core import RedisSessions

APP = "myapp"


def test_single_calls_work_after_the_server_flushed_its_scripts(
    rs: RedisSessions, r: redis.Redis
) -> None:
    r.script_flush()
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    r.script_flush()

    session = rs.get(app=APP, token=token)

    assert session is not None and session["id"] == "u1"
    assert r.hget(f"rs:{APP}:{token}", "r") == "2"


def test_batches_run_every_call_exactly_once_after_the_server_flushed_its_scripts(
    rs: RedisSessions, r: redis.Redis
) -> None:
    r.script_flush()
    batch = [{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(50)]
    tokens = [t["token"] for t in rs.create_many(app=APP, sessions=batch)]  # type: ignore[arg-type]
    r.script_flush()

    sessions = rs.get_many(app=APP, tokens=tokens)

    assert [s["id"] if s else None for s in sessions] == [f"u{i}" for i in range(50)]
    assert r.zcard(f"rs:{APP}:_sessions") == 50
    assert {r.hget(f"rs:{APP}:{t}", "r") for t in tokens} == {"2"}  # each read counted once


def test_a_batch_loads_its_script_once_not_per_call(rs: RedisSessions, r: redis.Redis) -> None:
    r.script_flush()
    r.config_resetstat()

    rs.create_many(app=APP, sessions=[{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(250)])

    stats = r.info("commandstats")
    assert stats["cmdstat_script|load"]["calls"] == 1
    # 250 sessions are 3 chunks (100, 100, 50): 3 calls answered NOSCRIPT, then 3 ran.
    assert stats["cmdstat_evalsha"]["calls"] == 6
    assert r.zcard(f"rs:{APP}:_sessions") == 250
    assert "cmdstat_script|exists" not in stats  # no extra round trip per batch
