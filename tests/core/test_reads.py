"""`activity`, `soapp`, `soid`, `ping`, `close` and one `wipe` pass."""

from __future__ import annotations

import redis

from sessions_core import RedisSessions
from sessions_core.store import BATCH

from .conftest import APP
from .helpers import CacheChannel, age_session, snapshot, wait_for


def _create(rs: RedisSessions, id: str, ttl: int = 3600, app: str = APP) -> str:
    return rs.create(app=app, id=id, ip="10.0.0.1", ttl=ttl)["token"]


def test_activity_counts_unique_ids_not_sessions(rs: RedisSessions) -> None:
    for id in ("u1", "u1", "u1", "u2", "a:b"):
        _create(rs, id)
    assert rs.activity(app=APP, delta_time=600) == {"activity": 3}


def test_activity_counts_only_ids_active_within_the_window(
    rs: RedisSessions, r: redis.Redis
) -> None:
    _create(rs, "recent")
    old = _create(rs, "old")
    _create(rs, "also_recent")
    age_session(r, APP, old, 700)
    assert rs.activity(app=APP, delta_time=600) == {"activity": 2}
    assert rs.activity(app=APP, delta_time=800) == {"activity": 3}
    # Reading the old session makes its user active again.
    rs.get(app=APP, token=old)
    assert rs.activity(app=APP, delta_time=600) == {"activity": 3}


def test_activity_of_an_unknown_app_is_0(rs: RedisSessions) -> None:
    assert rs.activity(app="nothing", delta_time=600) == {"activity": 0}


def test_soapp_returns_sessions_active_in_the_window_newest_first(
    rs: RedisSessions, r: redis.Redis
) -> None:
    ages = {"c": 300, "a": 100, "old": 900, "b": 200}
    for id, age in ages.items():
        age_session(r, APP, _create(rs, id), age)
    sessions = rs.soapp(app=APP, delta_time=600)["sessions"]
    assert [s["id"] for s in sessions] == ["a", "b", "c"]
    assert [s["idle"] // 100 for s in sessions] == [1, 2, 3]
    assert all(s["ip"] == "10.0.0.1" and s["ttl"] == 3600 for s in sessions)


def test_soapp_skips_timed_out_sessions(rs: RedisSessions, r: redis.Redis) -> None:
    live = _create(rs, "live", ttl=3600)
    dead = _create(rs, "dead", ttl=60)
    age_session(r, APP, dead, 100)
    age_session(r, APP, live, 100)
    assert [s["id"] for s in rs.soapp(app=APP, delta_time=600)["sessions"]] == ["live"]


def test_soapp_does_not_count_reads(rs: RedisSessions, r: redis.Redis, token: str) -> None:
    before = snapshot(r)
    assert len(rs.soapp(app=APP, delta_time=600)["sessions"]) == 1
    assert snapshot(r) == before


def test_soapp_of_an_empty_app_returns_no_sessions(rs: RedisSessions) -> None:
    assert rs.soapp(app=APP, delta_time=600) == {"sessions": []}


def test_soid_returns_every_live_session_of_the_id(rs: RedisSessions, r: redis.Redis) -> None:
    tokens = [_create(rs, "user:1") for _ in range(3)]
    _create(rs, "user:2")
    _create(rs, "user:1", app="otherapp")
    rs.set(app=APP, token=tokens[0], d={"device": "phone"})
    sessions = rs.soid(app=APP, id="user:1")["sessions"]
    assert len(sessions) == 3
    assert {s["id"] for s in sessions} == {"user:1"}
    assert [s.get("d") for s in sessions if "d" in s] == [{"device": "phone"}]


def test_soid_skips_timed_out_sessions(rs: RedisSessions, r: redis.Redis) -> None:
    live = _create(rs, "u1", ttl=3600)
    dead = _create(rs, "u1", ttl=60)
    age_session(r, APP, dead, 100)
    sessions = rs.soid(app=APP, id="u1")["sessions"]
    assert len(sessions) == 1
    assert rs.get(app=APP, token=live) is not None


def test_soid_of_an_unknown_id_returns_no_sessions(rs: RedisSessions) -> None:
    assert rs.soid(app=APP, id="nobody") == {"sessions": []}


def test_ping_returns_pong(rs: RedisSessions) -> None:
    assert rs.ping() == "PONG"


def test_close_releases_connections_and_stops_the_cache_listener(
    redis_url: str, r: redis.Redis
) -> None:
    # Counted from what is connected already (us; other suites' servers may hold idle ones).
    before = _clients(r)
    store = RedisSessions(url=redis_url, cachetime=60)
    assert store.cache is not None and store.cache.subscribed.wait(5)
    store.ping()
    # the store's pool and its cache listener
    wait_for(lambda: _clients(r) == before + 2, what="exactly two more clients")
    store.close()
    wait_for(lambda: _clients(r) == before, what="the store's connections to close")
    assert not store.cache.subscribed.is_set()


def test_rs_as_a_context_manager_closes_on_exit(redis_url: str, r: redis.Redis) -> None:
    before = _clients(r)
    with RedisSessions(url=redis_url) as store:
        store.ping()
        wait_for(lambda: _clients(r) == before + 1, what="exactly one more client")
    wait_for(lambda: _clients(r) == before, what="the store's connection to close")


def _clients(r: redis.Redis) -> int:
    return len(r.client_list())


def test_wipe_removes_exactly_the_timed_out_sessions(rs: RedisSessions, r: redis.Redis) -> None:
    dead_ids = ["plain", "org:1:user:2", "Zoë 😀", "a:"]
    dead = [_create(rs, id, ttl=60) for id in dead_ids]
    dead.append(_create(rs, "u9", ttl=60, app="otherapp"))
    live_ids = ["plain", "other:user", "Ünïcode"]
    live = [_create(rs, id, ttl=60) for id in live_ids]
    for token in dead[:-1]:
        age_session(r, APP, token, 100)
    age_session(r, "otherapp", dead[-1], 100)

    assert rs.wipe() == 5

    assert all(rs.get(app=APP, token=t) is not None for t in live)
    assert not any(r.exists(f"rs:{APP}:{t}") for t in dead[:-1])
    assert not r.exists(f"rs:otherapp:{dead[-1]}")
    assert sorted(r.zrange("rs:SESSIONS", 0, -1)) == sorted(
        f"{APP}:{t}:{id}" for t, id in zip(live, live_ids, strict=True)
    )
    assert sorted(r.zrange("rs:myapp:_sessions", 0, -1)) == sorted(
        f"{t}:{id}" for t, id in zip(live, live_ids, strict=True)
    )
    # "plain" keeps its live session, so it stays among the app's users.
    assert sorted(r.zrange("rs:myapp:_users", 0, -1)) == sorted(live_ids)
    user_sets = {str(k) for k in r.keys("rs:myapp:us:*")}
    assert user_sets == {f"rs:myapp:us:{id}" for id in live_ids}
    assert r.smembers("rs:myapp:us:plain") == {live[0]}
    assert {str(k) for k in r.keys("rs:otherapp:*")} == set()


def test_wipe_publishes_a_cache_message_per_removed_session(
    rs: RedisSessions, r: redis.Redis, cache_channel: CacheChannel
) -> None:
    token = _create(rs, "u1", ttl=60)
    age_session(r, APP, token, 100)
    rs.wipe()
    assert cache_channel.drain() == [f"{APP}:{token}"]


def test_wipe_with_nothing_timed_out_removes_nothing(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    assert rs.wipe() == 0
    assert rs.get(app=APP, token=token) is not None


def test_wipe_works_through_more_than_one_batch(rs: RedisSessions, r: redis.Redis) -> None:
    n = BATCH + 7
    rs.create_many(app=APP, sessions=[{"id": f"u:{i}", "ip": "10.0.0.1"} for i in range(n)])
    # Move every expiry into the past (the wipe reads only {ns}:SESSIONS scores).
    members = [str(m) for m in r.zrange("rs:SESSIONS", 0, -1)]
    r.zadd("rs:SESSIONS", dict.fromkeys(members, 1))
    assert rs.wipe() == n
    assert {str(k) for k in r.keys("*")} == {"rs:_apps", "rs:_wipe"}
