"""`sessions_core.demo.backdate_many`: demo sessions with a past last activity."""

from __future__ import annotations

import pytest
import redis

from sessions_core import RedisSessions
from sessions_core.demo import backdate_many


def test_backdated_session_reports_its_idle_time_and_leaves_recent_windows(
    rs: RedisSessions,
) -> None:
    token = rs.create(app="shop", id="ada", ip="203.0.113.7", ttl=7200)["token"]

    assert backdate_many(rs, app="shop", sessions=[{"token": token, "id": "ada", "idle": 1800}])

    assert rs.activity(app="shop", delta_time=600) == {"activity": 0}
    assert rs.activity(app="shop", delta_time=3600) == {"activity": 1}
    [session] = rs.soid(app="shop", id="ada")["sessions"]
    assert 1800 <= session["idle"] <= 1802
    assert rs.soapp(app="shop", delta_time=600) == {"sessions": []}


def test_backdated_session_expires_ttl_after_its_new_last_activity(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app="shop", id="ada", ip="203.0.113.7", ttl=100)["token"]
    backdate_many(rs, app="shop", sessions=[{"token": token, "id": "ada", "idle": 95}])

    now = int(r.time()[0])
    assert r.zscore("rs:SESSIONS", f"shop:{token}:ada") == pytest.approx(now + 5, abs=2)


def test_user_keeps_the_activity_of_their_newest_session(rs: RedisSessions) -> None:
    phone, laptop = rs.create_many(
        app="forum",
        sessions=[{"id": "bo", "ip": "198.51.100.4"}, {"id": "bo", "ip": "198.51.100.5"}],
    )
    backdate_many(
        rs,
        app="forum",
        sessions=[
            {"token": phone["token"], "id": "bo", "idle": 300},
            {"token": laptop["token"], "id": "bo", "idle": 5000},
        ],
    )

    histogram = rs.activity_histogram(app="forum", bucket=600, buckets=2)
    assert histogram == [1, 0]


def test_no_resave_session_counts_down_from_its_backdated_activity(rs: RedisSessions) -> None:
    token = rs.create(app="admin_portal", id="ops", ip="192.0.2.1", ttl=3600, no_resave=True)
    backdate_many(
        rs, app="admin_portal", sessions=[{"token": token["token"], "id": "ops", "idle": 600}]
    )

    session = rs.get(app="admin_portal", token=token["token"])
    assert session is not None
    assert 2998 <= session["ttl"] <= 3000


def test_unknown_token_or_wrong_id_is_left_alone(rs: RedisSessions) -> None:
    token = rs.create(app="shop", id="ada", ip="203.0.113.7")["token"]
    missing = "A" * 64

    found = backdate_many(
        rs,
        app="shop",
        sessions=[
            {"token": token, "id": "someone-else", "idle": 900},
            {"token": missing, "id": "ada", "idle": 900},
        ],
    )

    assert found == 0
    assert rs.activity(app="shop", delta_time=60) == {"activity": 1}
    assert rs.soid(app="shop", id="someone-else") == {"sessions": []}
