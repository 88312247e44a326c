"""Run a check within one second of Redis's clock, so an exact idle time stays exact.

Every script reads the server's `TIME`, in whole seconds. A test that sets a session's last
activity to `now - n` and then calls an operation sees `idle == n` only while the server
is still in second `now`; these helpers detect a second boundary crossed meanwhile and run
the attempt again instead of failing (or passing) by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis

from .helpers import NS, server_now

T = TypeVar("T")
ATTEMPTS = 10


def within_one_server_second(r: redis.Redis, attempt: Callable[[int], T]) -> T:
    """`attempt(now)` with `now` Redis's current second, rerun until it ends in that second.

    `attempt` must not assert (a crossed second would make its result meaningless) and must
    set up everything it depends on itself, since it may run more than once.
    """
    for _ in range(ATTEMPTS):
        now = server_now(r)
        result = attempt(now)
        if server_now(r) == now:
            return result
    raise AssertionError(f"no attempt of {ATTEMPTS} ran within one server second")


def set_last_activity(r: redis.Redis, app: str, token: str, la: int) -> None:
    """Make a session last active at unix second `la`: its hash and every index score.

    Written with raw commands (as a Node app idle since `la` would have left it); the user's
    `_users` score is `la` too, so give each id one session.
    """
    session_key = f"{NS}:{app}:{token}"
    id, ttl = ("" if v is None else str(v) for v in r.hmget(session_key, ["id", "ttl"]))
    assert id and ttl, "set_last_activity needs an existing session"
    pipe = r.pipeline(transaction=True)
    pipe.hset(session_key, "la", la)
    pipe.zadd(f"{NS}:{app}:_sessions", {f"{token}:{id}": la})
    pipe.zadd(f"{NS}:{app}:_users", {id: la})
    pipe.zadd(f"{NS}:SESSIONS", {f"{app}:{token}:{id}": la + int(ttl)})
    pipe.execute()
