"""What `create` stores: redis-sessions 4.0.0's keys, fields and scores, byte for byte."""

from __future__ import annotations

import re
import time

import redis

from sessions_core import NewSession, RedisSessions

from .conftest import APP
from .helpers import server_now

TOKEN_RE = re.compile(r"[A-Ya-z0-9]{55}Z([0-9a-z]+)")


def test_create_stores_the_originals_hash_and_index_entries(
    rs: RedisSessions, r: redis.Redis
) -> None:
    before = server_now(r)
    token = rs.create(
        app=APP, id="user1001", ip="192.168.22.58", ttl=3600, d={"foo": "bar", "unread": 34}
    )["token"]
    after = server_now(r)

    stored = r.hgetall(f"rs:myapp:{token}")
    la = int(stored["la"])
    assert before <= la <= after
    # The original's hSet of {id, r, w, ip, la, ttl, d}: d is JSON.stringify's compact text.
    assert stored == {
        "id": "user1001",
        "r": "1",
        "w": "1",
        "ip": "192.168.22.58",
        "la": str(la),
        "ttl": "3600",
        "d": '{"foo":"bar","unread":34}',
    }
    assert r.zrange("rs:myapp:_sessions", 0, -1, withscores=True) == [(f"{token}:user1001", la)]
    assert r.zrange("rs:myapp:_users", 0, -1, withscores=True) == [("user1001", la)]
    assert r.smembers("rs:myapp:us:user1001") == {token}
    assert r.zrange("rs:SESSIONS", 0, -1, withscores=True) == [
        (f"myapp:{token}:user1001", la + 3600)
    ]


def test_create_writes_only_the_originals_keys_and_the_app_registry(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app=APP, id="user1001", ip="10.0.0.1")["token"]
    assert set(r.keys("*")) == {
        f"rs:myapp:{token}",
        "rs:myapp:_sessions",
        "rs:myapp:_users",
        "rs:myapp:us:user1001",
        "rs:SESSIONS",
        "rs:_apps",
    }
    assert r.smembers("rs:_apps") == {APP}


def test_create_defaults_ttl_to_7200(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    la = int(r.hget(f"rs:myapp:{token}", "la") or 0)
    assert r.hget(f"rs:myapp:{token}", "ttl") == "7200"
    assert r.zscore("rs:SESSIONS", f"myapp:{token}:u1") == la + 7200


def test_create_without_d_stores_no_d_field(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    assert not r.hexists(f"rs:myapp:{token}", "d")


def test_create_with_only_null_values_stores_no_d_field(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"a": None, "b": None})["token"]
    assert not r.hexists(f"rs:myapp:{token}", "d")


def test_create_drops_null_values_from_d(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"a": None, "b": 2})["token"]
    assert r.hget(f"rs:myapp:{token}", "d") == '{"b":2}'


def test_create_stores_non_ascii_as_json_stringify_does(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"name": "Zoë 😀", "c": "\x01"})["token"]
    # JSON.stringify keeps non-ASCII characters as they are and escapes control characters.
    assert r.hget(f"rs:myapp:{token}", "d") == '{"name":"Zoë 😀","c":"\\u0001"}'


def test_create_with_no_resave_stores_the_flag_as_1(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=60, no_resave=True)["token"]
    assert r.hget(f"rs:myapp:{token}", "no_resave") == "1"


def test_create_without_no_resave_stores_no_flag(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", no_resave=False)["token"]
    assert not r.hexists(f"rs:myapp:{token}", "no_resave")


def test_create_with_an_id_holding_colons_keeps_it_whole(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="org:42:user:7", ip="10.0.0.1")["token"]
    assert r.hget(f"rs:myapp:{token}", "id") == "org:42:user:7"
    assert r.zscore("rs:myapp:_sessions", f"{token}:org:42:user:7") is not None
    assert r.smembers("rs:myapp:us:org:42:user:7") == {token}
    assert r.zscore("rs:SESSIONS", f"myapp:{token}:org:42:user:7") is not None


def test_namespace_prefixes_every_key(redis_url: str, r: redis.Redis) -> None:
    with RedisSessions(url=redis_url, namespace="other") as store:
        token = store.create(app=APP, id="u1", ip="10.0.0.1")["token"]
        assert store.get(app=APP, token=token) is not None
    assert all(str(key).startswith("other:") for key in r.keys("*"))
    assert r.exists("other:SESSIONS", f"other:myapp:{token}") == 2


def test_token_has_the_originals_format(rs: RedisSessions) -> None:
    before_ms = _now_ms()
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    after_ms = _now_ms()
    assert len(token) == 64
    match = TOKEN_RE.fullmatch(token)
    assert match is not None, token
    # The original appends Date.now().toString(36) after a 'Z'.
    assert before_ms <= int(match.group(1), 36) <= after_ms


def test_tokens_are_unique_and_use_the_whole_alphabet(rs: RedisSessions) -> None:
    tokens = [t["token"] for t in rs.create_many(app=APP, sessions=_many(300))]
    assert len(set(tokens)) == 300
    letters = {c for t in tokens for c in t[:55]}
    # 300 * 55 draws from 61 letters: every one shows up unless the generator is broken.
    assert letters == set("ABCDEFGHIJKLMNOPQRSTUVWXYabcdefghijklmnopqrstuvwxyz0123456789")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _many(n: int) -> list[NewSession]:
    return [{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(n)]


def test_namespace_names_the_cache_channel(redis_url: str) -> None:
    listener = redis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = listener.pubsub()  # type: ignore[no-untyped-call]
    pubsub.subscribe("other:cache")
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    with RedisSessions(url=redis_url, namespace="other") as store:
        token = store.create(app=APP, id="u1", ip="10.0.0.1")["token"]
        store.kill(app=APP, token=token)
    message = pubsub.get_message(timeout=5)
    assert message is not None and message["data"] == f"{APP}:{token}"
    pubsub.close()
    listener.close()
