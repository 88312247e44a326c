"""Sessions of ids starting with a prefix: a bounded walk that says when it stopped early."""

from __future__ import annotations

import pytest
import redis

from sessions_core import RedisSessions

from .conftest import APP
from .helpers import age_session


def test_a_prefix_finds_the_sessions_of_every_matching_id_newest_first(
    rs: RedisSessions, r: redis.Redis
) -> None:
    made = {id: rs.create(app=APP, id=id, ip="1")["token"] for id in ("ann", "anna", "bob", "an*")}
    age_session(r, APP, made["ann"], 30)
    page = rs.prefix_page(app=APP, prefix="an", delta_time=600)
    ids = [row["session"]["id"] for row in page["rows"]]
    assert set(ids[:2]) == {"an*", "anna"} and ids[2] == "ann"  # "ann" is 30 s older
    assert page["complete"] is True and page["total"] == 3


def test_glob_characters_in_the_prefix_match_literally(rs: RedisSessions) -> None:
    for id in ("a*b", "axb", "a?c", "a[1]", "a\\z"):
        rs.create(app=APP, id=id, ip="1")
    for prefix, expected in (("a*", {"a*b"}), ("a?", {"a?c"}), ("a[", {"a[1]"}), ("a\\", {"a\\z"})):
        page = rs.prefix_page(app=APP, prefix=prefix, delta_time=600)
        assert {row["session"]["id"] for row in page["rows"]} == expected, prefix


def test_the_window_applies_and_a_limit_stops_the_walk_early(
    rs: RedisSessions, r: redis.Redis
) -> None:
    tokens = [rs.create(app=APP, id=f"user{i:03}", ip="1")["token"] for i in range(30)]
    age_session(r, APP, tokens[0], 7200)
    page = rs.prefix_page(app=APP, prefix="user", delta_time=3600)
    assert page["total"] == 29 and page["complete"] is True
    limited = rs.prefix_page(app=APP, prefix="user", delta_time=3600, limit=10)
    assert limited["complete"] is False and len(limited["rows"]) <= 10


def test_a_small_budget_stops_the_walk_and_says_so(rs: RedisSessions) -> None:
    rs.create_many(app=APP, sessions=[{"id": f"x{i}", "ip": "1"} for i in range(12_000)])
    rs.create(app=APP, id="needle", ip="1")
    page = rs.prefix_page(app=APP, prefix="needle", delta_time=600, budget=1)
    # One script call walks 5 steps of ~1000 of the 12,001 ids: the walk cannot have finished.
    assert page["complete"] is False
    full = rs.prefix_page(app=APP, prefix="needle", delta_time=600)
    assert full["complete"] is True and full["total"] == 1


def test_a_matching_id_with_many_sessions_is_read_only_up_to_the_bound(
    rs: RedisSessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sessions_core.reads.PREFIX_SESSIONS_MAX", 5)
    rs.create_many(app=APP, sessions=[{"id": "botnet", "ip": "1"}] * 8)
    page = rs.prefix_page(app=APP, prefix="bot", delta_time=600)
    assert len(page["rows"]) == 5 and page["complete"] is False
