"""`set`: merge and delete rules, counters, cache messages, exact round trips."""

from __future__ import annotations

import threading

import pytest
import redis

from sessions_core import CorruptSession, DValue, RedisSessions

from .conftest import APP
from .helpers import CacheChannel, age_session, idle_bounds, server_now, snapshot

UNKNOWN = "A" * 55 + "Z" + "a" * 8


def _d(rs: RedisSessions, token: str) -> dict[str, DValue] | None:
    session = rs.get(app=APP, token=token)
    assert session is not None
    return session.get("d")


def test_set_merges_new_keys_and_leaves_others_untouched(rs: RedisSessions) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"foo": "bar", "unread": 34})["token"]
    session = rs.set(app=APP, token=token, d={"unread": 12, "last_action": "/read/news"})
    assert session is not None
    assert session["d"] == {"foo": "bar", "unread": 12, "last_action": "/read/news"}
    assert _d(rs, token) == {"foo": "bar", "unread": 12, "last_action": "/read/news"}


def test_set_keeps_existing_keys_in_place_and_appends_new_ones(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"a": 1, "b": 2})["token"]
    rs.set(app=APP, token=token, d={"c": 3, "a": 10})
    # lodash's extend: replaced keys keep their place, new ones go last.
    assert r.hget(f"rs:myapp:{token}", "d") == '{"a":10,"b":2,"c":3}'


def test_set_with_none_deletes_the_key(rs: RedisSessions) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"a": 1, "b": 2})["token"]
    session = rs.set(app=APP, token=token, d={"a": None, "c": 3})
    assert session is not None
    assert session["d"] == {"b": 2, "c": 3}


def test_set_with_none_for_an_absent_key_changes_nothing_in_d(rs: RedisSessions) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"a": 1})["token"]
    session = rs.set(app=APP, token=token, d={"zzz": None})
    assert session is not None
    assert session["d"] == {"a": 1}


def test_set_deleting_the_last_key_removes_the_d_field(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"a": 1})["token"]
    session = rs.set(app=APP, token=token, d={"a": None})
    assert session is not None
    assert "d" not in session
    assert not r.hexists(f"rs:myapp:{token}", "d")
    assert "d" not in (rs.get(app=APP, token=token) or {})


def test_set_on_a_session_without_d_creates_it(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    rs.set(app=APP, token=token, d={"a": "x"})
    assert r.hget(f"rs:myapp:{token}", "d") == '{"a":"x"}'


def test_set_returns_w_incremented_and_r_as_stored(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=3600)["token"]
    rs.get(app=APP, token=token)
    first = rs.set(app=APP, token=token, d={"a": 1})
    second = rs.set(app=APP, token=token, d={"a": 2})
    assert first is not None and second is not None
    assert (first["r"], first["w"]) == (2, 2)
    assert (second["r"], second["w"]) == (2, 3)
    assert {k: v for k, v in second.items() if k not in ("idle", "d")} == {
        "id": "u1",
        "r": 2,
        "w": 3,
        "ttl": 3600,
        "ip": "10.0.0.1",
    }
    assert r.hmget(f"rs:myapp:{token}", ["r", "w"]) == ["2", "3"]


def test_set_refreshes_activity_and_expiry(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=3600)["token"]
    age_session(r, APP, token, 100)
    before = server_now(r)
    session, least, most = idle_bounds(
        r, APP, token, lambda: rs.set(app=APP, token=token, d={"a": 1})
    )
    after = server_now(r)
    assert session is not None
    assert 100 <= least <= session["idle"] <= most
    la = int(r.hget(f"rs:myapp:{token}", "la") or 0)
    assert before <= la <= after
    assert r.zscore("rs:myapp:_sessions", f"{token}:u1") == la
    assert r.zscore("rs:SESSIONS", f"myapp:{token}:u1") == la + 3600


def test_set_of_an_unknown_token_returns_none_and_writes_nothing(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    before = snapshot(r)
    assert rs.set(app=APP, token=UNKNOWN, d={"a": 1}) is None
    assert snapshot(r) == before


def test_set_of_a_timed_out_session_returns_none_and_writes_nothing(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    age_session(r, APP, token, 3602)
    before = snapshot(r)
    assert rs.set(app=APP, token=token, d={"a": 1}) is None
    assert snapshot(r) == before


def test_set_publishes_app_and_token_on_the_cache_channel(
    rs: RedisSessions, token: str, cache_channel: CacheChannel
) -> None:
    rs.set(app=APP, token=token, d={"a": 1})
    assert cache_channel.drain() == [f"{APP}:{token}"]


def test_get_publishes_nothing(rs: RedisSessions, token: str, cache_channel: CacheChannel) -> None:
    rs.get(app=APP, token=token)
    assert cache_channel.drain() == []


def test_set_on_no_resave_session_keeps_counting_down(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=100, no_resave=True)["token"]
    expiry = r.zscore("rs:SESSIONS", f"myapp:{token}:u1") or 0
    age_session(r, APP, token, 30)
    session = rs.set(app=APP, token=token, d={"a": 1})
    assert session is not None
    assert session["no_resave"] is True
    assert session["ttl"] == 100 - session["idle"]
    assert r.zscore("rs:SESSIONS", f"myapp:{token}:u1") == expiry - 30


def test_set_ignores_no_resave_like_the_original(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    rs.set(app=APP, token=token, d={"a": 1}, no_resave=True)
    assert not r.hexists(f"rs:myapp:{token}", "no_resave")


EXACT_VALUES: dict[str, DValue] = {
    "sum": 0.1 + 0.2,
    "tiny": 1e-300,
    "huge": 1.7976931348623157e308,
    "neg_zero": -0.0,
    "one_float": 1.0,
    "big_int": 2**63 + 1,
    "beyond_2_53": 2**53 + 1,
    "negative_big": -(2**70),
    "pi": 3.141592653589793,
    "true": True,
    "false": False,
    "unicode": "Grüße, 世界",
    "emoji": "😀👍🏽",
    "escapes": 'quote " backslash \\ slash / tab \t nul \x00',
    'key "with" quotes': 1,
    "key\\with\\backslashes": 2,
    "key:with:colons": 3,
    "κλειδί 🔑": 4,
    "": "empty key",
    "line\u2028sep": "para\u2029sep",
}


def test_set_round_trips_values_and_keys_exactly(rs: RedisSessions) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"first": 1})["token"]
    rs.set(app=APP, token=token, d=EXACT_VALUES)
    stored = _d(rs, token)
    assert stored is not None
    assert _exact(stored) == _exact({"first": 1, **EXACT_VALUES})
    # A second set over the merged text keeps every value as it was.
    rs.set(app=APP, token=token, d={"first": None})
    assert _exact(_d(rs, token) or {}) == _exact(EXACT_VALUES)


def test_set_over_node_written_json_keeps_untouched_values_byte_for_byte(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    node_text = (
        '{"name":"caf\\u00e9","q":"say \\"hi\\"","n":1e+21,"small":1e-7,'
        '"big":12345678901234567890,"neg":-0,"ok":true,"path":"a\\/b"}'
    )
    r.hset(f"rs:myapp:{token}", "d", node_text)
    session = rs.set(app=APP, token=token, d={"x": 1})
    assert session is not None
    assert r.hget(f"rs:myapp:{token}", "d") == node_text[:-1] + ',"x":1}'
    assert session["d"] == {
        "name": "café",
        "q": 'say "hi"',
        "n": 1e21,
        "small": 1e-7,
        "big": 12345678901234567890,
        "neg": 0,
        "ok": True,
        "path": "a/b",
        "x": 1,
    }


def test_set_matches_keys_that_node_wrote_with_json_escapes(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    r.hset(
        f"rs:myapp:{token}",
        "d",
        '{"caf\\u00e9":1,"say \\"hi\\"":2,"\\ud83d\\ude00":3,"back\\\\slash":4,"keep":5}',
    )
    session = rs.set(
        app=APP,
        token=token,
        d={"café": 10, 'say "hi"': None, "😀": 30, "back\\slash": None},
    )
    assert session is not None
    assert list((session.get("d") or {}).items()) == [("café", 10), ("😀", 30), ("keep", 5)]


def test_set_tolerates_whitespace_in_stored_json(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    # Written by some other client with a pretty printer.
    r.hset(f"rs:myapp:{token}", "d", '{ "a" : 1 ,\n  "b" : "x" , "c": null }')
    session = rs.set(app=APP, token=token, d={"b": "y"})
    assert session is not None
    assert session["d"] == {"a": 1, "b": "y", "c": None}


def test_set_treats_an_empty_stored_d_as_no_data(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    r.hset(f"rs:myapp:{token}", "d", "")
    session = rs.set(app=APP, token=token, d={"x": 1})
    assert session is not None and session["d"] == {"x": 1}


def test_ints_of_thousands_of_digits_round_trip(rs: RedisSessions, r: redis.Redis) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"a": -(10**4000) - 7})["token"]
    rs.set(app=APP, token=token, d={"b": 10**4000 + 1})
    assert _d(rs, token) == {"a": -(10**4000) - 7, "b": 10**4000 + 1}


def test_set_on_a_session_whose_d_is_not_a_flat_object_raises_corrupt_session(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    r.hset(f"rs:myapp:{token}", "d", '{"a":{"nested":1}}')
    before = snapshot(r)
    with pytest.raises(CorruptSession) as caught:
        rs.set(app=APP, token=token, d={"b": 1})
    assert token not in str(caught.value)
    assert snapshot(r) == before


def test_concurrent_sets_on_one_session_lose_nothing(
    rs: RedisSessions, redis_url: str, r: redis.Redis
) -> None:
    threads_n, keys_each = 8, 25
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        with RedisSessions(url=redis_url) as store:
            start.wait()
            try:
                for k in range(keys_each):
                    store.set(app=APP, token=token, d={f"t{n}k{k}": n * 1000 + k})
            except BaseException as error:  # reported by the main thread
                errors.append(error)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    d = _d(rs, token)
    assert d == {f"t{n}k{k}": n * 1000 + k for n in range(threads_n) for k in range(keys_each)}
    assert r.hget(f"rs:myapp:{token}", "w") == str(1 + threads_n * keys_each)


def _exact(d: dict[str, DValue]) -> dict[str, tuple[str, str]]:
    """Values with their type and repr, so 1 != 1.0 != True and -0.0 != 0.0."""
    return {key: (type(value).__name__, repr(value)) for key, value in d.items()}
