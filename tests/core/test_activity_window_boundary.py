"""Activity windows are inclusive, as in redis-sessions 4.0.0 (`ZCOUNT key now-n +inf`): an
id last active exactly `n` seconds ago is within a window of `n` seconds, one last active
`n + 1` seconds ago is not. Checked at those exact seconds of Redis's clock for `activity`,
`soapp`, `soapp_page`, `app_stats`, `activity_histogram` and `user_page(delta_time=)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
import redis

from sessions_core import RedisSessions

from .conftest import APP
from .same_second import set_last_activity, within_one_server_second

T = TypeVar("T")

WINDOWS = (60, 600, 3600, 86400)  # app_stats' default windows
# One id per idle time, on both sides of every window and histogram bucket edge below.
IDLES = (0, 59, 60, 61, 599, 600, 601, 1200, 1201, 3599, 3600, 3601, 86400, 86401, 90000)
TTL = 10**6  # every session stays alive: only the activity window decides


def _id(idle: int) -> str:
    return f"idle{idle}"


def _within(window: int) -> set[str]:
    return {_id(idle) for idle in IDLES if idle <= window}


@pytest.fixture
def tokens(rs: RedisSessions) -> dict[int, str]:
    """One session per idle time, created now; `_measure` sets their last activity."""
    made = rs.create_many(
        app=APP, sessions=[{"id": _id(idle), "ip": "10.0.0.1", "ttl": TTL} for idle in IDLES]
    )
    return {idle: t["token"] for idle, t in zip(IDLES, made, strict=True)}


def _measure(r: redis.Redis, tokens: dict[int, str], read: Callable[[], T]) -> T:
    """`read()` while each session is last active exactly its idle time ago."""

    def attempt(now: int) -> T:
        for idle, token in tokens.items():
            set_last_activity(r, APP, token, now - idle)
        return read()

    return within_one_server_second(r, attempt)


@pytest.mark.parametrize("window", [*WINDOWS, 1200])
def test_activity_counts_ids_last_active_exactly_the_window_ago_and_not_one_second_more(
    rs: RedisSessions, r: redis.Redis, tokens: dict[int, str], window: int
) -> None:
    seen = _measure(r, tokens, lambda: rs.activity(app=APP, delta_time=window))
    assert seen == {"activity": len(_within(window))}


@pytest.mark.parametrize("window", [*WINDOWS, 1200])
def test_soapp_lists_sessions_last_active_exactly_the_window_ago_and_not_one_second_more(
    rs: RedisSessions, r: redis.Redis, tokens: dict[int, str], window: int
) -> None:
    sessions = _measure(r, tokens, lambda: rs.soapp(app=APP, delta_time=window)["sessions"])
    assert [s["id"] for s in sessions] == sorted(_within(window), key=lambda id: int(id[4:]))


@pytest.mark.parametrize("window", [*WINDOWS, 1200])
def test_soapp_page_totals_and_lists_the_same_inclusive_window(
    rs: RedisSessions, r: redis.Redis, tokens: dict[int, str], window: int
) -> None:
    page = _measure(r, tokens, lambda: rs.soapp_page(app=APP, delta_time=window, limit=1000))
    assert page["total"] == len(_within(window))
    assert {row["session"]["id"] for row in page["rows"]} == _within(window)


def test_app_stats_windows_include_their_last_second_and_no_more(
    rs: RedisSessions, r: redis.Redis, tokens: dict[int, str]
) -> None:
    [stats] = _measure(r, tokens, lambda: rs.app_stats(apps=[APP], windows=WINDOWS))
    assert stats["active"] == {window: len(_within(window)) for window in WINDOWS}
    assert (stats["sessions"], stats["users"]) == (len(IDLES), len(IDLES))


def test_activity_histogram_buckets_end_at_their_last_second_inclusive(
    rs: RedisSessions, r: redis.Redis, tokens: dict[int, str]
) -> None:
    histogram = _measure(r, tokens, lambda: rs.activity_histogram(app=APP, bucket=600, buckets=3))
    # [0, 600]: idle 0 59 60 61 599 600; [601, 1200]: 601 1200; [1201, 1800]: 1201.
    assert histogram == [6, 2, 1]


def test_user_page_window_includes_a_session_last_active_exactly_the_window_ago(
    rs: RedisSessions, r: redis.Redis
) -> None:
    made = rs.create_many(app=APP, sessions=[{"id": "u1", "ip": "10.0.0.1", "ttl": TTL}] * 3)
    by_idle = {idle: t["token"] for idle, t in zip((59, 60, 61), made, strict=True)}
    page = _measure(r, by_idle, lambda: rs.user_page(app=APP, id="u1", delta_time=60))
    assert page["total"] == 2
    assert sorted(row["session"]["idle"] for row in page["rows"]) == [59, 60]
