"""bench.seed writes what `create` would, so the library reads seeded sessions like its own."""

from __future__ import annotations

import redis

from bench.seed import seed
from sessions_core import RedisSessions
from sessions_core.keys import Keys

KEYS = Keys("rs")


def test_seeded_indexes_match_the_report_and_every_session_is_alive(
    rs: RedisSessions, r: redis.Redis, redis_url: str
) -> None:
    report = seed(redis_url, sessions=300, users=40, apps=3)

    assert sum(n for n, _ in report.per_app.values()) == 300
    assert sum(u for _, u in report.per_app.values()) == 40
    assert r.zcard(KEYS.all_sessions) == 300
    assert rs.apps() == sorted(report.apps)
    for app, (sessions, users) in report.per_app.items():
        assert r.zcard(KEYS.app_sessions(app)) == sessions
        assert r.zcard(KEYS.app_users(app)) == users
        assert len(rs.soapp(app=app, delta_time=86400 + 60)["sessions"]) == sessions
        (stats,) = rs.app_stats(apps=[app], windows=[86400 + 60])
        assert stats["active"][86400 + 60] == users
    app, id, count = report.busiest_user
    assert count > 300 // 40, "someone has more devices than average"
    assert len(rs.soid(app=app, id=id)["sessions"]) == count


def test_a_seeded_session_has_the_fields_of_a_created_one_and_can_be_killed(
    rs: RedisSessions, r: redis.Redis, redis_url: str
) -> None:
    report = seed(redis_url, sessions=50, users=50, app_names=["shop"])
    created = rs.create(app="shop", id="ref", ip="10.0.0.1")["token"]
    member = str(r.zrange(KEYS.app_sessions("shop"), 0, 0)[0])
    token, _ = Keys.split_token_member(member)

    assert set(r.hkeys(KEYS.session("shop", token))) - {"d"} == set(
        r.hkeys(KEYS.session("shop", created))
    )
    assert rs.get(app="shop", token=token) is not None
    assert rs.kill(app="shop", token=token) == {"kill": 1}
    assert r.zcard(KEYS.all_sessions) == report.sessions  # 50 seeded + 1 created - 1 killed


def test_ids_may_be_any_unicode_and_hold_colons(rs: RedisSessions, redis_url: str) -> None:
    ids = ["ü-ñ 😀", "a:b:c", "<script>x</script>"]
    seed(redis_url, sessions=6, users=3, app_names=["shop"], ids=ids)

    assert sum(len(rs.soid(app="shop", id=id)["sessions"]) for id in ids) == 6
    assert all(rs.soid(app="shop", id=id)["sessions"] for id in ids)


def test_describing_without_writing_reports_the_same_and_writes_nothing(
    r: redis.Redis, redis_url: str
) -> None:
    described = seed(redis_url, sessions=200, users=30, apps=4, write=False, now=1_800_000_000)
    assert r.dbsize() == 0
    written = seed(redis_url, sessions=200, users=30, apps=4, processes=2, now=1_800_000_000)
    assert (described.per_app, described.busiest_user) == (written.per_app, written.busiest_user)
    assert r.zcard(KEYS.all_sessions) == 200
