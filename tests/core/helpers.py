"""Helpers for the sessions_core tests: read what Redis holds, age sessions, watch pub/sub.

Key names are spelled out here on purpose (not built with `sessions_core.keys`): the tests
check that the library writes redis-sessions 4.0.0's layout, so they must not share its code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import redis

NS = "rs"
CHANNEL = f"{NS}:cache"
SENTINEL = "--end-of-messages--"
T = TypeVar("T")


def server_now(r: redis.Redis) -> int:
    """Redis's clock in whole seconds, the clock every script uses."""
    seconds, _micro = r.time()
    return int(seconds)


def snapshot(r: redis.Redis) -> dict[str, Any]:
    """Everything in the database, by key, in a comparable form."""
    readers: dict[str, Callable[[str], Any]] = {
        "hash": r.hgetall,
        "zset": lambda key: r.zrange(key, 0, -1, withscores=True),
        "set": r.smembers,
        "string": r.get,
        "list": lambda key: r.lrange(key, 0, -1),
    }
    found: dict[str, Any] = {}
    for key in sorted(map(str, r.keys("*"))):
        kind = str(r.type(key))
        found[key] = (kind, readers[kind](key))
    return found


def age_session(r: redis.Redis, app: str, token: str, seconds: int) -> None:
    """Make a session look `seconds` older: its `la` and every index score move back."""
    session_key = f"{NS}:{app}:{token}"
    id = str(r.hget(session_key, "id") or "")
    assert id, "age_session needs an existing session"
    pipe = r.pipeline(transaction=True)
    pipe.hincrby(session_key, "la", -seconds)
    pipe.zincrby(f"{NS}:{app}:_sessions", -seconds, f"{token}:{id}")
    pipe.zincrby(f"{NS}:{app}:_users", -seconds, id)
    pipe.zincrby(f"{NS}:SESSIONS", -seconds, f"{app}:{token}:{id}")
    pipe.execute()


def idle_bounds(r: redis.Redis, app: str, token: str, call: Callable[[], T]) -> tuple[T, int, int]:
    """Run `call` and return its result with the least and most idle time it may report.

    Bounds come from Redis's clock around the call, so a slow machine widens them instead
    of failing the test.
    """
    la = int(r.hget(f"{NS}:{app}:{token}", "la") or 0)
    before = server_now(r)
    result = call()
    after = server_now(r)
    return result, before - la, after - la


def wait_for(condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll `condition` until true; fail after `timeout` s (a deadline, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.01)


class CacheChannel:
    """A raw subscriber to `{ns}:cache`, as the Node library's cache listener is.

    `drain()` publishes a sentinel and returns every message that arrived before it: Redis
    delivers messages in the order it executed the PUBLISH commands, so whatever an
    operation published before it returned is in the list, and nothing else.
    """

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, decode_responses=True)
        self._pubsub = self._client.pubsub()  # type: ignore[no-untyped-call]

    def __enter__(self) -> CacheChannel:
        self._pubsub.subscribe(CHANNEL)
        message = self._pubsub.get_message(timeout=5)
        assert message is not None and message["type"] == "subscribe"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pubsub.close()
        self._client.close()

    def drain(self, timeout: float = 10.0) -> list[str]:
        self._client.publish(CHANNEL, SENTINEL)
        messages: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._pubsub.get_message(timeout=1)
            if message is None or message["type"] != "message":
                continue
            if message["data"] == SENTINEL:
                return messages
            messages.append(message["data"])
        raise AssertionError("the sentinel message never arrived")
