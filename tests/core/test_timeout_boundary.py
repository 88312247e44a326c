"""A session is alive while `idle <= ttl` and timed out once `idle > ttl`, as in
redis-sessions 4.0.0: at exactly `idle == ttl` every operation still sees it, one second
later none does.

Each case writes the session's last activity relative to Redis's own clock (the clock the
scripts read) and runs the operation within that same server second.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from sessions_core import RedisSessions

from .conftest import APP
from .same_second import set_last_activity, within_one_server_second

ID = "user1001"
TTL = 60


def _get(rs: RedisSessions, token: str) -> object:
    session = rs.get(app=APP, token=token)
    # A timed-out session must stay timed out: the read must not have refreshed it.
    again = rs.get(app=APP, token=token) is not None
    return None if session is None else (session["id"], session["idle"]), again


def _set(rs: RedisSessions, token: str) -> object:
    session = rs.set(app=APP, token=token, d={"seen": True})
    again = rs.get(app=APP, token=token) is not None
    return None if session is None else (session["id"], session["idle"]), again


def _kill(rs: RedisSessions, token: str) -> object:
    return rs.kill(app=APP, token=token)["kill"]


def _soid(rs: RedisSessions, token: str) -> object:
    return [s["idle"] for s in rs.soid(app=APP, id=ID)["sessions"]]


def _soapp(rs: RedisSessions, token: str) -> object:
    return [s["idle"] for s in rs.soapp(app=APP, delta_time=3600)["sessions"]]


def _soapp_page(rs: RedisSessions, token: str) -> object:
    page = rs.soapp_page(app=APP, delta_time=3600)
    return [(row["handle"], row["session"]["idle"]) for row in page["rows"]]


def _user_page(rs: RedisSessions, token: str) -> object:
    page = rs.user_page(app=APP, id=ID)
    return page["total"], [(row["handle"], row["session"]["idle"]) for row in page["rows"]]


def _user_sessions(rs: RedisSessions, token: str) -> object:
    return [(row["handle"], row["session"]["idle"]) for row in rs.user_sessions(app=APP, id=ID)]


Operation = Callable[[RedisSessions, str], object]

# Per operation: what it answers at idle == TTL (alive), and at idle == TTL + 1 (timed out).
OPERATIONS: dict[str, tuple[Operation, Callable[[str], object], object]] = {
    "get": (_get, lambda handle: ((ID, TTL), True), (None, False)),
    "set": (_set, lambda handle: ((ID, TTL), True), (None, False)),
    "kill": (_kill, lambda handle: 1, 0),
    "soid": (_soid, lambda handle: [TTL], []),
    "soapp": (_soapp, lambda handle: [TTL], []),
    "soapp_page": (_soapp_page, lambda handle: [(handle, TTL)], []),
    "user_page": (_user_page, lambda handle: (1, [(handle, TTL)]), (0, [])),
    "user_sessions": (_user_sessions, lambda handle: [(handle, TTL)], []),
}


def _at_idle(
    rs: RedisSessions, r: redis.Redis, operation: Operation, idle: int, no_resave: bool
) -> tuple[object, str]:
    """`operation` on a fresh session of ttl TTL last active exactly `idle` s ago."""

    def attempt(now: int) -> tuple[object, str]:
        r.flushdb()  # a previous attempt's session must not show up in this one's lists
        token = rs.create(app=APP, id=ID, ip="10.0.0.1", ttl=TTL, no_resave=no_resave)["token"]
        set_last_activity(r, APP, token, now - idle)
        return operation(rs, token), rs.handle(app=APP, token=token)

    return within_one_server_second(r, attempt)


@pytest.mark.parametrize("no_resave", [False, True], ids=["resave", "no_resave"])
@pytest.mark.parametrize("name", list(OPERATIONS))
def test_a_session_idle_exactly_its_ttl_is_still_alive(
    rs: RedisSessions, r: redis.Redis, name: str, no_resave: bool
) -> None:
    operation, alive, _gone = OPERATIONS[name]
    seen, handle = _at_idle(rs, r, operation, TTL, no_resave)
    assert seen == alive(handle)


@pytest.mark.parametrize("no_resave", [False, True], ids=["resave", "no_resave"])
@pytest.mark.parametrize("name", list(OPERATIONS))
def test_a_session_idle_one_second_past_its_ttl_is_timed_out(
    rs: RedisSessions, r: redis.Redis, name: str, no_resave: bool
) -> None:
    operation, _alive, gone = OPERATIONS[name]
    seen, _handle = _at_idle(rs, r, operation, TTL + 1, no_resave)
    assert seen == gone
