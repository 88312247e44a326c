"""Data written by another program, planted with raw Redis commands: every read answers (the
dashboard's reads mark the item unreadable), kills still end it, the wipe skips what it cannot
touch and goes on, and no script leaves partial writes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from sessions_core import CorruptData, CorruptSession, RedisSessions, ValidationError

from .conftest import APP
from .helpers import server_now, snapshot

OTHER = "otherapp"
TOKEN = "F" * 55 + "Zforeign1"


def _plant(
    client: redis.Redis, /, *, id: str | bytes = "u1", token: str = TOKEN, **fields: str
) -> str:
    """A session of APP as a Node app would write it, with `fields` overriding the hash."""
    now = server_now(client)
    raw = id.encode() if isinstance(id, str) else id
    key = f"rs:{APP}:{token}".encode()
    pipe = client.pipeline(transaction=True)
    pipe.zadd(f"rs:{APP}:_sessions".encode(), {token.encode() + b":" + raw: now})
    pipe.zadd(f"rs:{APP}:_users".encode(), {raw: now})
    pipe.zadd(b"rs:SESSIONS", {f"{APP}:{token}:".encode() + raw: now + 3600})
    pipe.sadd(f"rs:{APP}:us:".encode() + raw, token)
    mapping: dict[str | bytes, str | bytes | int] = {"id": raw, "r": "1", "w": "1"}
    mapping |= {"ip": "10.0.0.9", "la": now, "ttl": 3600}
    mapping.update(fields)
    pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
    pipe.execute()
    return token


def _handle_row(rs: RedisSessions) -> dict[str, object]:
    (row,) = rs.soapp_page(app=APP, delta_time=600)["rows"]
    return dict(row)


@pytest.mark.parametrize("d", ["{not json", "[1,2]", '"s"', "5", "null"])
def test_a_d_that_is_not_a_json_object_is_unreadable_and_still_killable(
    rs: RedisSessions, r: redis.Redis, d: str
) -> None:
    _plant(r, d=d)
    with pytest.raises(CorruptSession, match="d is"):
        rs.get(app=APP, token=TOKEN)
    row = _handle_row(rs)
    assert row["problem"] and row["session"]["id"] == "u1"  # type: ignore[index]
    (user_row,) = rs.user_page(app=APP, id="u1")["rows"]
    assert user_row["problem"]
    assert rs.kill_by_handle(app=APP, id="u1", handle=str(row["handle"])) == {"kill": 1}
    assert r.exists(f"rs:{APP}:{TOKEN}") == 0
    assert r.zcard(f"rs:{APP}:_sessions") == 0


@pytest.mark.parametrize("field", ["ttl", "la", "r", "w"])
@pytest.mark.parametrize("value", ["abc", "inf", "nan", "1e3", "9" * 30])
def test_non_integer_counters_and_times_are_unreadable_and_nothing_is_written(
    rs: RedisSessions, r: redis.Redis, field: str, value: str
) -> None:
    _plant(r, **{field: value})
    before = snapshot(r)
    writes: list[Callable[[], object]] = [
        lambda: rs.get(app=APP, token=TOKEN),
        lambda: rs.set(app=APP, token=TOKEN, d={"a": 1}),
    ]
    for write in writes:
        with pytest.raises(CorruptSession, match="must hold integers"):
            write()
        assert snapshot(r) == before  # refused before its first write
    assert _handle_row(rs)["problem"]
    (user_row,) = rs.user_page(app=APP, id="u1")["rows"]
    assert user_row["problem"]
    # Whether it timed out cannot be told: a kill ends it.
    assert rs.kill(app=APP, token=TOKEN) == {"kill": 1}
    assert snapshot(r) == {"rs:_apps": ("set", {APP})} or not r.exists(f"rs:{APP}:{TOKEN}")


def test_an_id_with_invalid_utf8_is_listed_and_killable(rs: RedisSessions, r: redis.Redis) -> None:
    raw = b"bad\xff\xfeid"
    _plant(r, id=raw)
    row = _handle_row(rs)
    shown = row["session"]["id"]  # type: ignore[index]
    assert shown == raw.decode("utf-8", "surrogateescape")
    assert "problem" not in row
    assert rs.kill_by_handle(app=APP, id=shown, handle=str(row["handle"])) == {"kill": 1}
    _plant(r, id=raw)
    assert rs.soid(app=APP, id=shown)["sessions"][0]["id"] == shown
    assert rs.killsoid(app=APP, id=shown) == {"kill": 1}
    assert r.keys("*") == ["rs:_apps"] or r.keys("*") == []


def test_a_session_key_of_another_type_is_listed_and_killable_by_handle(
    rs: RedisSessions, r: redis.Redis
) -> None:
    _plant(r)
    r.delete(f"rs:{APP}:{TOKEN}")
    r.rpush(f"rs:{APP}:{TOKEN}", "a list")
    row = _handle_row(rs)
    assert "another type" in str(row["problem"])
    assert rs.kill(app=APP, token=TOKEN) == {"kill": 0}  # no id to tell it is a session
    assert rs.kill_by_handle(app=APP, id="u1", handle=str(row["handle"])) == {"kill": 1}
    assert r.zcard(f"rs:{APP}:_sessions") == 0
    assert r.zcard("rs:SESSIONS") == 0
    assert r.exists(f"rs:{APP}:us:u1", f"rs:{APP}:_users") == 0


def test_a_sessions_index_of_another_type_hides_only_that_app(
    rs: RedisSessions, r: redis.Redis
) -> None:
    rs.create(app=OTHER, id="u2", ip="10.0.0.1")
    r.set(f"rs:{APP}:_sessions", "not a zset")
    stats = {s["app"]: s for s in rs.app_stats(apps=[APP, OTHER])}
    assert "not a sorted set" in stats[APP]["problem"]
    assert stats[OTHER]["sessions"] == 1 and "problem" not in stats[OTHER]
    page = rs.soapp_page(app=APP, delta_time=600)
    assert page["rows"] == [] and "not a sorted set" in page["problem"]
    with pytest.raises(CorruptData):
        rs.killall(app=APP)
    assert r.get(f"rs:{APP}:_sessions") == "not a zset"


def test_users_and_token_sets_of_another_type_are_left_alone(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    r.delete(f"rs:{APP}:_users", f"rs:{APP}:us:u1")
    r.set(f"rs:{APP}:_users", "x")
    r.set(f"rs:{APP}:us:u1", "y")
    assert rs.get(app=APP, token=token) is not None
    assert "problem" in rs.app_stats(apps=[APP])[0]
    page = rs.user_page(app=APP, id="u1")
    assert page["rows"] == [] and "not a set" in page["problem"]
    assert rs.killsoid(app=APP, id="u1") == {"kill": 0}
    assert rs.kill(app=APP, token=token) == {"kill": 1}
    assert r.get(f"rs:{APP}:_users") == "x" and r.get(f"rs:{APP}:us:u1") == "y"


def test_index_members_that_name_no_session_do_not_stop_killall(
    rs: RedisSessions, r: redis.Redis
) -> None:
    rs.create_many(app=APP, sessions=[{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(3)])
    now = server_now(r)
    # No ':' at all; an empty token; a token that would name an index key.
    r.zadd(f"rs:{APP}:_sessions", {"nocolon": now, ":u9": now, "_users:u9": now})
    assert rs.soapp_page(app=APP, delta_time=600)["total"] == 6
    assert rs.killall(app=APP) == {"kill": 3}
    assert r.exists(f"rs:{APP}:_sessions", f"rs:{APP}:_users") == 0


def test_invalid_app_names_in_the_registry_are_not_listed(
    rs: RedisSessions, r: redis.Redis
) -> None:
    rs.create(app=APP, id="u1", ip="10.0.0.1")
    r.sadd("rs:_apps", "no", "bad app", "<script>", "x" * 21)
    assert rs.apps() == [APP]
    r.delete("rs:_apps")
    r.set("rs:_apps", "a string")
    assert rs.apps() == [APP] or rs.apps() == []  # the sample may see it; nothing raises


@pytest.mark.parametrize(
    "stored", ["not json", "[1]", '{"removed": "many"}', '{"per_app": 5}', "1e999"]
)
def test_a_wipe_report_that_is_not_ours_reads_as_none(
    rs: RedisSessions, r: redis.Redis, stored: str
) -> None:
    r.set("rs:_wipe", stored)
    assert rs.last_wipe() is None
    r.delete("rs:_wipe")
    r.hset("rs:_wipe", "a", "b")
    assert rs.last_wipe() is None
    rs.wipe_pass()  # a pass writes its own report over it
    report = rs.last_wipe()
    assert report is not None and report["removed"] == 0


def test_the_wipe_skips_foreign_keys_names_them_and_wipes_everything_else(
    rs: RedisSessions, r: redis.Redis
) -> None:
    tokens = [rs.create(app=a, id=f"u-{a}", ip="10.0.0.1")["token"] for a in (APP, OTHER)]
    now = server_now(r)
    # Every session has timed out.
    r.zadd("rs:SESSIONS", {f"{APP}:{tokens[0]}:u-{APP}": now - 1})
    r.zadd("rs:SESSIONS", {f"{OTHER}:{tokens[1]}:u-{OTHER}": now - 1})
    r.delete(f"rs:{APP}:_sessions", f"rs:{APP}:us:u-{APP}")
    r.set(f"rs:{APP}:_sessions", "foreign")
    r.set(f"rs:{APP}:us:u-{APP}", "foreign")
    # Members naming no session, one of them an index key.
    r.zadd("rs:SESSIONS", {"nocolon": 1, f"{OTHER}:_users:x": 1, "a b:tok:id": 1})
    report = rs.wipe_pass()
    assert report["removed"] == 2
    assert report["per_app"] == {APP: 1, OTHER: 1}
    assert report["foreign_keys"] == [f"rs:{APP}:_sessions", f"rs:{APP}:us:u-{APP}"]
    assert r.zcard("rs:SESSIONS") == 0
    assert r.exists(f"rs:{APP}:{tokens[0]}", f"rs:{OTHER}:{tokens[1]}") == 0
    assert r.get(f"rs:{APP}:_sessions") == "foreign"
    assert rs.last_wipe() == report


def test_a_sessions_index_of_another_type_stops_the_pass_with_corrupt_data(
    rs: RedisSessions, r: redis.Redis
) -> None:
    r.set("rs:SESSIONS", "x")
    with pytest.raises(CorruptData):
        rs.wipe_pass()


def test_a_stored_d_over_the_limit_is_not_merged(rs: RedisSessions, r: redis.Redis) -> None:
    big = "{" + ",".join(f'"k{i}":{i}' for i in range(10_000)) + "}"
    assert len(big) > 65536
    _plant(r, d=big)
    before = snapshot(r)
    with pytest.raises(ValidationError, match="at most 65536 bytes"):
        rs.set(app=APP, token=TOKEN, d={"a": 1})
    assert snapshot(r) == before
    assert len(rs.get(app=APP, token=TOKEN)["d"]) == 10_000  # type: ignore[index]


def test_a_merge_that_would_grow_d_over_the_limit_is_refused(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"a": "x" * 40_000})["token"]
    before = snapshot(r)
    with pytest.raises(ValidationError, match="at most 65536 bytes") as caught:
        rs.set(app=APP, token=token, d={"b": "y" * 40_000})
    assert caught.value.name == "invalidValue"
    assert snapshot(r) == before
    with pytest.raises(ValidationError, match="at most 65536 bytes"):
        rs.set(app=APP, token=token, d={"b": "y" * 70_000})
    with pytest.raises(ValidationError, match="at most 65536 bytes"):
        rs.create(app=APP, id="u1", ip="10.0.0.1", d={"b": "é" * 40_000})
    assert snapshot(r) == before
