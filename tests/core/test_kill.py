"""`kill`, `killsoid`, `killall`: return values, index clean-up, cache messages."""

from __future__ import annotations

import threading

import redis

from sessions_core import RedisSessions
from sessions_core.store import KILLALL_BATCH

from .conftest import APP
from .helpers import CacheChannel, age_session, snapshot

UNKNOWN = "A" * 55 + "Z" + "a" * 8


def _create(rs: RedisSessions, id: str, app: str = APP) -> str:
    return rs.create(app=app, id=id, ip="10.0.0.1")["token"]


def _app_keys(r: redis.Redis, app: str = APP) -> set[str]:
    return {str(k) for k in r.keys(f"rs:{app}:*")}


def test_kill_returns_1_and_removes_the_session_and_its_index_entries(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    assert rs.kill(app=APP, token=token) == {"kill": 1}
    assert rs.get(app=APP, token=token) is None
    assert _app_keys(r) == set()
    assert r.zcard("rs:SESSIONS") == 0


def test_kill_of_an_unknown_token_returns_0_and_writes_nothing(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    before = snapshot(r)
    assert rs.kill(app=APP, token=UNKNOWN) == {"kill": 0}
    assert snapshot(r) == before


def test_kill_twice_returns_0_the_second_time(rs: RedisSessions, token: str) -> None:
    assert rs.kill(app=APP, token=token) == {"kill": 1}
    assert rs.kill(app=APP, token=token) == {"kill": 0}


def test_kill_of_a_timed_out_session_returns_0_and_leaves_it_to_the_wipe(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    age_session(r, APP, token, 3602)
    before = snapshot(r)
    assert rs.kill(app=APP, token=token) == {"kill": 0}
    assert snapshot(r) == before
    assert rs.wipe() == 1
    assert _app_keys(r) == set()


def test_kill_keeps_the_user_active_while_another_session_remains(
    rs: RedisSessions, r: redis.Redis
) -> None:
    phone, laptop = _create(rs, "user1001"), _create(rs, "user1001")
    rs.kill(app=APP, token=phone)
    assert r.zscore("rs:myapp:_users", "user1001") is not None
    assert r.smembers("rs:myapp:us:user1001") == {laptop}
    rs.kill(app=APP, token=laptop)
    assert r.zscore("rs:myapp:_users", "user1001") is None
    assert not r.exists("rs:myapp:us:user1001")


def test_kill_leaves_other_users_and_apps_alone(rs: RedisSessions, r: redis.Redis) -> None:
    mine = _create(rs, "u1")
    same_app, other_app = _create(rs, "u2"), _create(rs, "u1", app="otherapp")
    rs.kill(app=APP, token=mine)
    assert rs.get(app=APP, token=same_app) is not None
    assert rs.get(app="otherapp", token=other_app) is not None
    assert r.zcard("rs:SESSIONS") == 2


def test_kill_of_an_id_with_colons_removes_every_index_entry(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = _create(rs, "tenant:7:user:1")
    assert rs.kill(app=APP, token=token) == {"kill": 1}
    assert _app_keys(r) == set()
    assert r.zcard("rs:SESSIONS") == 0


def test_kill_publishes_the_cache_message(
    rs: RedisSessions, token: str, cache_channel: CacheChannel
) -> None:
    rs.kill(app=APP, token=token)
    assert cache_channel.drain() == [f"{APP}:{token}"]


def test_killsoid_ends_every_session_of_the_id(rs: RedisSessions, r: redis.Redis) -> None:
    tokens = [_create(rs, "user1001") for _ in range(3)]
    keep = _create(rs, "user2002")
    assert rs.killsoid(app=APP, id="user1001") == {"kill": 3}
    assert all(rs.get(app=APP, token=t) is None for t in tokens)
    assert rs.get(app=APP, token=keep) is not None
    assert _app_keys(r) == {
        f"rs:myapp:{keep}",
        "rs:myapp:_sessions",
        "rs:myapp:_users",
        "rs:myapp:us:user2002",
    }
    assert r.zrange("rs:SESSIONS", 0, -1) == [f"myapp:{keep}:user2002"]


def test_killsoid_removes_user_from_active_users(rs: RedisSessions, r: redis.Redis) -> None:
    _create(rs, "user1001")
    _create(rs, "user1001")
    rs.killsoid(app=APP, id="user1001")
    assert r.zscore("rs:myapp:_users", "user1001") is None
    assert rs.activity(app=APP, delta_time=600) == {"activity": 0}


def test_killsoid_of_an_unknown_id_returns_0_and_writes_nothing(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    before = snapshot(r)
    assert rs.killsoid(app=APP, id="nobody") == {"kill": 0}
    assert snapshot(r) == before


def test_killsoid_of_an_id_with_colons_spares_ids_that_share_its_prefix(
    rs: RedisSessions, r: redis.Redis
) -> None:
    _create(rs, "a:b")
    keep = _create(rs, "a")
    also_keep = _create(rs, "a:b:c")
    assert rs.killsoid(app=APP, id="a:b") == {"kill": 1}
    assert [rs.get(app=APP, token=t) is not None for t in (keep, also_keep)] == [True, True]
    assert set(r.zrange("rs:myapp:_users", 0, -1)) == {"a", "a:b:c"}


def test_killsoid_publishes_a_cache_message_per_session(
    rs: RedisSessions, cache_channel: CacheChannel
) -> None:
    tokens = {_create(rs, "u1") for _ in range(3)}
    rs.killsoid(app=APP, id="u1")
    assert sorted(cache_channel.drain()) == sorted(f"{APP}:{t}" for t in tokens)


def test_killall_ends_every_session_of_the_app_only(rs: RedisSessions, r: redis.Redis) -> None:
    for id in ("u1", "u1", "u2", "x:y"):
        _create(rs, id)
    keep = _create(rs, "u1", app="otherapp")
    assert rs.killall(app=APP) == {"kill": 4}
    assert _app_keys(r) == set()
    assert r.zrange("rs:SESSIONS", 0, -1) == [f"otherapp:{keep}:u1"]
    assert rs.get(app="otherapp", token=keep) is not None


def test_killall_of_an_empty_app_returns_0(rs: RedisSessions) -> None:
    assert rs.killall(app=APP) == {"kill": 0}


def test_killall_works_through_more_than_one_batch(
    rs: RedisSessions, r: redis.Redis, cache_channel: CacheChannel
) -> None:
    n = KILLALL_BATCH + 20
    rs.create_many(app=APP, sessions=[{"id": f"u{i % 50}", "ip": "10.0.0.1"} for i in range(n)])
    assert r.zcard("rs:myapp:_sessions") == n
    assert rs.killall(app=APP) == {"kill": n}
    assert _app_keys(r) == set()
    assert r.zcard("rs:SESSIONS") == 0
    assert len(set(cache_channel.drain())) == n


def test_killall_leaves_none_of_the_apps_indexes_even_stale_entries(
    rs: RedisSessions, r: redis.Redis
) -> None:
    for id in ("u1", "u1", "u2"):
        _create(rs, id)
    r.zadd("rs:myapp:_users", {"ghost": 1})  # an id left behind by an interrupted writer
    assert rs.killall(app=APP) == {"kill": 3}
    assert _app_keys(r) == set()


def test_killall_counts_index_entries_whose_session_hash_is_already_gone(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    # Like the original, killall counts the app's index entries it removes.
    r.delete(f"rs:myapp:{token}")
    assert rs.killall(app=APP) == {"kill": 1}
    assert _app_keys(r) == set()


def test_gets_and_sets_racing_a_kill_never_leave_index_entries_behind(
    rs: RedisSessions, r: redis.Redis, redis_url: str
) -> None:
    tokens = [_create(rs, "u1") for _ in range(20)]
    stop = threading.Event()
    errors: list[BaseException] = []

    def touch_all() -> None:
        with RedisSessions(url=redis_url) as store:
            try:
                while not stop.is_set():
                    for token in tokens:
                        store.set(app=APP, token=token, d={"k": 1})
                        store.get(app=APP, token=token)
            except BaseException as error:  # reported by the main thread
                errors.append(error)

    workers = [threading.Thread(target=touch_all) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        for token in tokens:
            assert rs.kill(app=APP, token=token) == {"kill": 1}
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert errors == []
    # A set or get that lost the race found no session and wrote nothing back.
    assert _app_keys(r) == set()
    assert r.zcard("rs:SESSIONS") == 0
