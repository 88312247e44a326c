"""`create`, `get`, `create_many`, `get_many`: the session object and its counters."""

from __future__ import annotations

import pytest
import redis

from sessions_core import CorruptData, CorruptSession, RedisSessions

from .conftest import APP
from .helpers import age_session, idle_bounds, server_now, snapshot

UNKNOWN = "A" * 55 + "Z" + "a" * 8


def test_get_returns_the_originals_session_object(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="user1001", ip="192.168.22.58", ttl=3600, d={"foo": "bar"})[
        "token"
    ]
    session, least, most = idle_bounds(r, APP, token, lambda: rs.get(app=APP, token=token))
    assert session is not None
    assert least <= session["idle"] <= most
    assert {**session, "idle": 0} == {
        "idle": 0,
        "id": "user1001",
        "r": 1,
        "w": 1,
        "ttl": 3600,
        "ip": "192.168.22.58",
        "d": {"foo": "bar"},
    }


def test_get_of_a_session_without_d_has_no_d_key(rs: RedisSessions, token: str) -> None:
    session = rs.get(app=APP, token=token)
    assert session is not None
    assert "d" not in session
    assert "no_resave" not in session


def test_get_returns_counters_before_its_own_read_is_counted(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    reads = [rs.get(app=APP, token=token) for _ in range(3)]
    assert [s["r"] if s else None for s in reads] == [1, 2, 3]
    assert r.hget(f"rs:myapp:{token}", "r") == "4"
    assert r.hget(f"rs:myapp:{token}", "w") == "1"


def test_get_reports_idle_seconds_since_last_activity(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    age_session(r, APP, token, 100)
    session, least, most = idle_bounds(r, APP, token, lambda: rs.get(app=APP, token=token))
    assert session is not None
    assert 100 <= least <= session["idle"] <= most


def test_get_refreshes_activity_and_expiry(rs: RedisSessions, r: redis.Redis, token: str) -> None:
    age_session(r, APP, token, 100)
    before = server_now(r)
    assert rs.get(app=APP, token=token) is not None
    after = server_now(r)
    la = int(r.hget(f"rs:myapp:{token}", "la") or 0)
    assert before <= la <= after
    assert r.zscore("rs:myapp:_sessions", f"{token}:user1001") == la
    assert r.zscore("rs:myapp:_users", "user1001") == la
    assert r.zscore("rs:SESSIONS", f"myapp:{token}:user1001") == la + 3600


def test_get_within_a_second_of_activity_leaves_la_alone(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    # The original writes `la` only when the session was idle for more than 1 s.
    la = r.hget(f"rs:myapp:{token}", "la")
    assert rs.get(app=APP, token=token) is not None
    assert r.hget(f"rs:myapp:{token}", "la") == la


def test_get_of_a_timed_out_session_returns_none_and_counts_nothing(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    age_session(r, APP, token, 3602)
    before = snapshot(r)
    assert rs.get(app=APP, token=token) is None
    assert snapshot(r) == before


def test_get_of_a_session_idle_almost_its_ttl_returns_it(rs: RedisSessions, r: redis.Redis) -> None:
    # The original drops a session only when ttl < idle; 2 s of slack for a slow machine.
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=10)["token"]
    r.hset(f"rs:myapp:{token}", "la", server_now(r) - 8)
    session = rs.get(app=APP, token=token)
    assert session is not None
    assert session["idle"] >= 8


def test_get_of_an_unknown_token_returns_none_and_writes_nothing(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    before = snapshot(r)
    assert rs.get(app=APP, token=UNKNOWN) is None
    assert snapshot(r) == before


def test_get_with_the_wrong_app_returns_none(rs: RedisSessions, token: str) -> None:
    assert rs.get(app="otherapp", token=token) is None


def test_no_resave_session_counts_its_ttl_down(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=100, no_resave=True)["token"]
    expiry = r.zscore("rs:SESSIONS", f"myapp:{token}:u1")
    age_session(r, APP, token, 30)
    first, least, most = idle_bounds(r, APP, token, lambda: rs.get(app=APP, token=token))
    assert first is not None
    assert first["no_resave"] is True
    assert first["ttl"] == 100 - first["idle"]
    assert 30 <= least <= first["idle"] <= most

    age_session(r, APP, token, 20)
    second, least, most = idle_bounds(r, APP, token, lambda: rs.get(app=APP, token=token))
    assert second is not None
    assert second["ttl"] == first["ttl"] - second["idle"]
    assert 20 <= least <= second["idle"] <= most
    # The session still ends when it was going to, 100 s after its creation.
    assert r.zscore("rs:SESSIONS", f"myapp:{token}:u1") == (expiry or 0) - 50
    stored = r.hgetall(f"rs:myapp:{token}")
    assert int(stored["la"]) + int(stored["ttl"]) == (expiry or 0) - 50


def test_no_resave_session_times_out_after_its_ttl_despite_reads(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=100, no_resave=True)["token"]
    age_session(r, APP, token, 60)
    assert rs.get(app=APP, token=token) is not None
    age_session(r, APP, token, 45)
    assert rs.get(app=APP, token=token) is None


def test_create_many_returns_tokens_in_input_order(rs: RedisSessions) -> None:
    created = rs.create_many(
        app=APP,
        sessions=[
            {"id": "a", "ip": "10.0.0.1"},
            {"id": "b", "ip": "10.0.0.2", "ttl": 60, "d": {"x": 1}},
            {"id": "c", "ip": "10.0.0.3", "no_resave": True},
        ],
    )
    sessions = [rs.get(app=APP, token=t["token"]) for t in created]
    assert [(s["id"], s["ip"], s["ttl"]) if s else None for s in sessions] == [
        ("a", "10.0.0.1", 7200),
        ("b", "10.0.0.2", 60),
        ("c", "10.0.0.3", 7200),
    ]
    assert sessions[1] is not None and sessions[1]["d"] == {"x": 1}
    assert sessions[2] is not None and sessions[2]["no_resave"] is True


def test_create_many_stores_the_same_layout_as_create(rs: RedisSessions, r: redis.Redis) -> None:
    [created] = rs.create_many(app=APP, sessions=[{"id": "a:b", "ip": "10.0.0.1", "d": {"k": 1}}])
    token = created["token"]
    stored = r.hgetall(f"rs:myapp:{token}")
    la = int(stored["la"])
    assert stored == {
        "id": "a:b",
        "r": "1",
        "w": "1",
        "ip": "10.0.0.1",
        "la": str(la),
        "ttl": "7200",
        "d": '{"k":1}',
    }
    assert r.zscore("rs:SESSIONS", f"myapp:{token}:a:b") == la + 7200
    assert r.smembers("rs:myapp:us:a:b") == {token}


def test_create_many_of_nothing_writes_nothing(rs: RedisSessions, r: redis.Redis) -> None:
    assert rs.create_many(app=APP, sessions=[]) == []
    assert r.dbsize() == 0


def test_get_many_returns_sessions_in_input_order_with_none_for_unknown(
    rs: RedisSessions,
) -> None:
    a = rs.create(app=APP, id="a", ip="10.0.0.1")["token"]
    b = rs.create(app=APP, id="b", ip="10.0.0.1")["token"]
    result = rs.get_many(app=APP, tokens=[b, UNKNOWN, a, b])
    assert [s["id"] if s else None for s in result] == ["b", None, "a", "b"]
    # Each entry counted a read, like that many `get` calls.
    assert [s["r"] if s else None for s in result] == [1, None, 1, 2]


def test_get_many_of_nothing_returns_an_empty_list(rs: RedisSessions) -> None:
    assert rs.get_many(app=APP, tokens=[]) == []


@pytest.mark.parametrize("text", ["{not json", "[1,2", '{"a":' + "9" * 5000 + "}"])
def test_reading_a_session_whose_d_is_not_json_raises_corrupt_session(
    rs: RedisSessions, r: redis.Redis, token: str, text: str
) -> None:
    r.hset(f"rs:myapp:{token}", "d", text)
    for read in (
        lambda: rs.get(app=APP, token=token),
        lambda: rs.soapp(app=APP, delta_time=600),
        lambda: rs.soid(app=APP, id="user1001"),
    ):
        with pytest.raises(CorruptSession) as caught:
            read()
        assert not isinstance(caught.value, ValueError)
        assert token not in str(caught.value)


def test_errors_from_a_session_key_of_the_wrong_type_never_name_the_token(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    # Another program wrote a string where the session hash lives: the library's reads raise
    # CorruptData, never redis-py's "Command # 1 (HMGET <key> ...)" text; the dashboard's
    # reads show the session as unreadable.
    r.delete(f"rs:myapp:{token}")
    r.set(f"rs:myapp:{token}", "not a hash")
    for read in (
        lambda: rs.get(app=APP, token=token),
        lambda: rs.get_many(app=APP, tokens=[token]),
        lambda: rs.soapp(app=APP, delta_time=600),
        lambda: rs.soid(app=APP, id="user1001"),
    ):
        with pytest.raises(CorruptData) as caught:
            read()
        assert "another type" in str(caught.value)
        assert token not in str(caught.value)
    (row,) = rs.soapp_page(app=APP, delta_time=600)["rows"]
    assert row["session"]["id"] == "user1001"
    assert "another type" in row["problem"]
    assert [row] == rs.user_sessions(app=APP, id="user1001")
