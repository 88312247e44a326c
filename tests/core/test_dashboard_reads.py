"""The reads the dashboard needs: apps, per-app stats, histogram, soapp pages, a user's
sessions with handles (never tokens), and the handle-based kill."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import redis

from sessions_core import RedisSessions

from .conftest import APP
from .helpers import age_session, server_now, snapshot

KEY = b"k" * 32


@pytest.fixture
def keyed(redis_url: str) -> Iterator[RedisSessions]:
    store = RedisSessions(url=redis_url, handle_key=KEY)
    yield store
    store.close()


def _create(rs: RedisSessions, id: str, app: str = APP, ttl: int = 10**6) -> str:
    return rs.create(app=app, id=id, ip="10.0.0.1", ttl=ttl)["token"]


def _node_session(r: redis.Redis, app: str, id: str) -> str:
    """Write a session exactly as the Node library's create does, bypassing our registry."""
    token = "N" * 55 + "Z" + "mb1x2y3z"
    now = server_now(r)
    pipe = r.pipeline(transaction=True)
    pipe.zadd(f"rs:{app}:_sessions", {f"{token}:{id}": now})
    pipe.zadd(f"rs:{app}:_users", {id: now})
    pipe.zadd("rs:SESSIONS", {f"{app}:{token}:{id}": now + 7200})
    pipe.sadd(f"rs:{app}:us:{id}", token)
    pipe.hset(
        f"rs:{app}:{token}",
        mapping={"id": id, "r": 1, "w": 1, "ip": "10.0.0.9", "la": now, "ttl": 7200},
    )
    pipe.execute()
    return token


def test_apps_lists_apps_created_here_and_apps_only_node_wrote_to(
    rs: RedisSessions, r: redis.Redis
) -> None:
    _create(rs, "u1")
    _create(rs, "u1", app="zeta")
    _node_session(r, "nodeapp", "n1")
    assert not r.sismember("rs:_apps", "nodeapp")
    assert rs.apps() == ["myapp", "nodeapp", "zeta"]


def test_apps_ignores_other_namespaces(rs: RedisSessions, redis_url: str) -> None:
    _create(rs, "u1")
    with RedisSessions(url=redis_url, namespace="other") as other:
        _create(other, "u1", app="elsewhere")
        assert other.apps() == ["elsewhere"]
    assert rs.apps() == ["myapp"]


def test_apps_of_an_empty_store_is_empty(rs: RedisSessions) -> None:
    assert rs.apps() == []


def test_a_node_created_session_can_be_read_changed_and_killed(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = _node_session(r, "nodeapp", "n:1")
    session = rs.get(app="nodeapp", token=token)
    assert session is not None and (session["id"], session["ip"]) == ("n:1", "10.0.0.9")
    assert rs.set(app="nodeapp", token=token, d={"a": 1}) is not None
    assert rs.kill(app="nodeapp", token=token) == {"kill": 1}
    assert {str(k) for k in r.keys("rs:nodeapp:*")} == set()


def test_app_stats_counts_sessions_users_and_users_active_in_each_window(
    rs: RedisSessions, r: redis.Redis
) -> None:
    ages = {"a": 30, "b": 300, "c": 3000, "d": 50_000, "e": 200_000}
    for id, age in ages.items():
        age_session(r, APP, _create(rs, id), age)
    _create(rs, "a")  # a second session of an active user: one user, two sessions
    _create(rs, "x", app="otherapp")
    age_session(r, APP, _create(rs, "a"), 40)
    stats = rs.app_stats(apps=[APP, "otherapp", "emptyapp"])
    assert stats == [
        {
            "app": APP,
            "sessions": 7,
            "users": 5,
            "active": {60: 1, 600: 2, 3600: 3, 86400: 4},
        },
        {
            "app": "otherapp",
            "sessions": 1,
            "users": 1,
            "active": {60: 1, 600: 1, 3600: 1, 86400: 1},
        },
        {
            "app": "emptyapp",
            "sessions": 0,
            "users": 0,
            "active": {60: 0, 600: 0, 3600: 0, 86400: 0},
        },
    ]


def test_app_stats_with_custom_windows(rs: RedisSessions, r: redis.Redis) -> None:
    age_session(r, APP, _create(rs, "a"), 100)
    [stats] = rs.app_stats(apps=[APP], windows=[10, 1000])
    assert stats["active"] == {10: 0, 1000: 1}


def test_app_stats_of_no_apps_is_empty(rs: RedisSessions) -> None:
    assert rs.app_stats(apps=[]) == []


def test_activity_histogram_counts_users_per_bucket_newest_first(
    rs: RedisSessions, r: redis.Redis
) -> None:
    # Ages kept away from bucket edges: Redis's clock may tick during the test.
    for id, age in {"a": 10, "b": 70, "c": 100, "d": 150, "e": 500}.items():
        age_session(r, APP, _create(rs, id), age)
    assert rs.activity_histogram(app=APP, bucket=60, buckets=3) == [1, 2, 1]
    assert rs.activity_histogram(app=APP, bucket=600, buckets=1) == [5]


def test_soapp_page_returns_one_page_newest_first_with_the_window_total(
    keyed: RedisSessions, r: redis.Redis
) -> None:
    tokens = {}
    for i in range(7):
        tokens[f"u{i}"] = _create(keyed, f"u{i}")
        age_session(r, APP, tokens[f"u{i}"], 10 + 20 * i)
    age_session(r, APP, _create(keyed, "outside"), 5000)

    page = keyed.soapp_page(app=APP, delta_time=600, offset=2, limit=3)
    assert (page["total"], page["offset"], page["limit"]) == (7, 2, 3)
    assert [row["session"]["id"] for row in page["rows"]] == ["u2", "u3", "u4"]
    for row in page["rows"]:
        id = row["session"]["id"]
        la = int(r.hget(f"rs:myapp:{tokens[id]}", "la") or 0)
        assert row["handle"] == keyed.handle(app=APP, token=tokens[id])
        assert row["last_activity"] == la
        assert row["expires_in"] == row["session"]["ttl"] - row["session"]["idle"]
    assert not any(token in repr(page) for token in tokens.values())


def test_soapp_page_past_the_end_is_empty_but_keeps_the_total(
    rs: RedisSessions, r: redis.Redis
) -> None:
    _create(rs, "u1")
    page = rs.soapp_page(app=APP, delta_time=600, offset=5, limit=10)
    assert (page["total"], page["rows"]) == (1, [])


def test_soapp_page_far_past_the_end_is_empty(rs: RedisSessions) -> None:
    _create(rs, "u1")
    page = rs.soapp_page(app=APP, delta_time=600, offset=10**20)
    assert (page["total"], page["offset"], page["rows"]) == (1, 10**20, [])


def test_soapp_page_does_not_count_reads(rs: RedisSessions, r: redis.Redis) -> None:
    _create(rs, "u1")
    before = snapshot(r)
    assert len(rs.soapp_page(app=APP, delta_time=600)["rows"]) == 1
    assert snapshot(r) == before


def test_soapp_page_reports_time_left_of_no_resave_sessions(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=100, no_resave=True)["token"]
    age_session(r, APP, token, 30)
    [row] = rs.soapp_page(app=APP, delta_time=600)["rows"]
    assert row["session"]["no_resave"] is True
    assert row["expires_in"] == row["session"]["ttl"] == 100 - row["session"]["idle"]


def test_user_sessions_lists_the_users_sessions_newest_first_by_handle(
    keyed: RedisSessions, r: redis.Redis
) -> None:
    tokens = [_create(keyed, "user:1") for _ in range(3)]
    for token, age in zip(tokens, (200, 10, 100), strict=True):
        age_session(r, APP, token, age)
    _create(keyed, "user:2")
    rows = keyed.user_sessions(app=APP, id="user:1")
    assert [row["handle"] for row in rows] == [
        keyed.handle(app=APP, token=tokens[i]) for i in (1, 2, 0)
    ]
    assert all(re.fullmatch(r"[0-9a-f]{24}", row["handle"]) for row in rows)
    assert not any(token in repr(rows) for token in tokens)


def test_user_sessions_of_an_unknown_user_is_empty(rs: RedisSessions) -> None:
    assert rs.user_sessions(app=APP, id="nobody") == []
    assert rs.user_page(app=APP, id="nobody") == {"total": 0, "offset": 0, "limit": 50, "rows": []}


def test_user_page_pages_the_users_live_sessions_newest_first(
    keyed: RedisSessions, r: redis.Redis
) -> None:
    tokens = [_create(keyed, "a:b/ü") for _ in range(7)]
    for age, token in enumerate(tokens):
        age_session(r, APP, token, 100 * age)
    dead = _create(keyed, "a:b/ü", ttl=10)
    age_session(r, APP, dead, 50)  # timed out, not yet wiped: neither shown nor counted
    page = keyed.user_page(app=APP, id="a:b/ü", offset=2, limit=3)
    assert page["total"] == 7
    assert (page["offset"], page["limit"]) == (2, 3)
    assert [row["handle"] for row in page["rows"]] == [
        keyed.handle(app=APP, token=t) for t in tokens[2:5]
    ]
    assert keyed.user_page(app=APP, id="a:b/ü", offset=7)["rows"] == []
    assert [row["handle"] for row in keyed.user_sessions(app=APP, id="a:b/ü")] == [
        keyed.handle(app=APP, token=t) for t in tokens
    ]


def test_user_page_within_a_window_counts_only_sessions_active_in_it(
    rs: RedisSessions, r: redis.Redis
) -> None:
    recent, old = _create(rs, "u1"), _create(rs, "u1")
    age_session(r, APP, old, 4000)
    page = rs.user_page(app=APP, id="u1", delta_time=3600)
    assert page["total"] == 1
    assert [row["handle"] for row in page["rows"]] == [rs.handle(app=APP, token=recent)]
    assert rs.user_page(app=APP, id="u1")["total"] == 2


def test_user_page_does_not_count_reads(rs: RedisSessions, r: redis.Redis, token: str) -> None:
    before = snapshot(r)
    assert rs.user_page(app=APP, id="user1001")["total"] == 1
    assert snapshot(r) == before


def test_kill_by_handle_ends_exactly_that_session(keyed: RedisSessions, r: redis.Redis) -> None:
    phone, laptop = _create(keyed, "u1"), _create(keyed, "u1")
    handle = keyed.handle(app=APP, token=phone)
    assert keyed.kill_by_handle(app=APP, id="u1", handle=handle) == {"kill": 1}
    assert keyed.get(app=APP, token=phone) is None
    assert keyed.get(app=APP, token=laptop) is not None
    assert keyed.kill_by_handle(app=APP, id="u1", handle=handle) == {"kill": 0}


@pytest.mark.parametrize("handle", ["0" * 24, "", "not a handle"])
def test_kill_by_handle_with_a_wrong_handle_kills_nothing(
    keyed: RedisSessions, r: redis.Redis, handle: str
) -> None:
    _create(keyed, "u1")
    before = snapshot(r)
    assert keyed.kill_by_handle(app=APP, id="u1", handle=handle) == {"kill": 0}
    assert snapshot(r) == before


def test_kill_by_handle_only_reaches_sessions_of_the_given_id(
    keyed: RedisSessions, r: redis.Redis
) -> None:
    token = _create(keyed, "victim")
    _create(keyed, "u1")
    handle = keyed.handle(app=APP, token=token)
    assert keyed.kill_by_handle(app=APP, id="u1", handle=handle) == {"kill": 0}
    assert keyed.get(app=APP, token=token) is not None


def test_a_handle_is_stable_across_instances_with_the_same_handle_key(
    keyed: RedisSessions, redis_url: str
) -> None:
    token = _create(keyed, "u1")
    handle = keyed.handle(app=APP, token=token)
    with RedisSessions(url=redis_url, handle_key=KEY) as again:
        assert again.handle(app=APP, token=token) == handle
        assert again.kill_by_handle(app=APP, id="u1", handle=handle) == {"kill": 1}


def test_a_handle_depends_on_the_key_and_the_app(keyed: RedisSessions, redis_url: str) -> None:
    token = "T" * 64
    with RedisSessions(url=redis_url, handle_key=b"x" * 32) as other_key:
        assert other_key.handle(app=APP, token=token) != keyed.handle(app=APP, token=token)
    assert keyed.handle(app="other", token=token) != keyed.handle(app=APP, token=token)
    assert token not in keyed.handle(app=APP, token=token)


def test_has_app_knows_registered_apps_and_apps_only_node_wrote(
    rs: RedisSessions, r: redis.Redis
) -> None:
    assert not rs.has_app(app="nothere")
    _create(rs, "u1")
    _node_session(r, "nodeonly", "u2")
    assert rs.has_app(app=APP)
    assert rs.has_app(app="nodeonly")
    rs.killall(app=APP)
    assert rs.has_app(app=APP)  # still registered until discovery drops it
    r.delete("rs:_apps")
    r.set("rs:_apps", "not a set")
    assert not rs.has_app(app=APP)
    assert rs.has_app(app="nodeonly")


def test_user_page_judges_an_id_with_many_sessions_chunk_by_chunk(
    rs: RedisSessions, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sessions_core.reads.LIVE_CHUNK", 7)  # 20 sessions: 3 script calls
    tokens = [t["token"] for t in rs.create_many(app=APP, sessions=[{"id": "bot", "ip": "1"}] * 20)]
    for i, token in enumerate(tokens):
        age_session(r, APP, token, 100 * i)  # session i last active 100 i s ago
    age_session(r, APP, tokens[19], 10**6)  # timed out
    r.hset(f"rs:{APP}:{tokens[18]}", "la", "nan")  # unreadable: kept, last
    page = rs.user_page(app=APP, id="bot", limit=50)
    assert page["total"] == 19
    handles = [row["handle"] for row in page["rows"]]
    assert handles == [rs.handle(app=APP, token=t) for t in tokens[:19]]
    assert "problem" in page["rows"][-1]
    # Idle 0..1000 s (plus a second should the clock tick), and the unreadable one.
    within = rs.user_page(app=APP, id="bot", delta_time=1050)
    assert within["total"] == 11 + 1


def test_soapp_page_oldest_first_pages_the_same_window_the_other_way(
    rs: RedisSessions, r: redis.Redis
) -> None:
    tokens = [_create(rs, f"u{i}") for i in range(7)]
    for i, token in enumerate(tokens):
        age_session(r, APP, token, 100 * i)  # u0 newest ... u6 oldest
    age_session(r, APP, _create(rs, "ancient"), 10_000)  # outside a 1000 s window

    def ids(**kwargs: object) -> list[str]:
        page = rs.soapp_page(app=APP, delta_time=1000, limit=3, **kwargs)  # type: ignore[arg-type]
        return [row["session"]["id"] for row in page["rows"]]

    assert ids() == ["u0", "u1", "u2"]
    assert ids(oldest_first=True) == ["u6", "u5", "u4"]
    assert ids(oldest_first=True, offset=6) == ["u0"]


def test_server_info_describes_the_server_or_a_clusters_masters_summed(
    rs: RedisSessions, deployment: str, request: pytest.FixtureRequest
) -> None:
    info = rs.server_info()
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["version"])
    assert info["connected_clients"] >= 1 and info["used_memory"] > 0
    if deployment != "cluster":
        assert info["masters"] == 1
        return
    cluster = request.getfixturevalue("redis_cluster")
    memory = []
    for master in cluster.masters():
        with cluster.nodes[master.port].client() as client:
            memory.append(int(client.info("memory")["used_memory"]))
    assert info["masters"] == len(memory) == 3
    assert info["used_memory"] > max(memory)  # every master's, not the one a client asked
    assert info["connected_clients"] >= 3
