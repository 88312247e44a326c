"""What the deployment tests share: clients that fail fast, and retrying on a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

T = TypeVar("T")
FAILOVER_DEADLINE = 15.0  # seconds: the bound for operations to succeed again

# Short socket timeouts and one immediate retry: a call on a dead server fails in about a
# second at most, so `until_it_works` measures the outage, not the client's backoff.
FAST_FAIL: dict[str, Any] = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}


def fast_retry() -> Retry:
    return Retry(NoBackoff(), 1)


def until_it_works(operation: Callable[[], T], deadline: float) -> tuple[T, list[str]]:
    """Call `operation` until it stops raising Redis errors, up to the monotonic `deadline`;
    returns its result and the names of the errors seen meanwhile (AssertionError at the
    deadline). The pause between attempts only spaces the polling."""
    errors: list[str] = []
    while True:
        try:
            return operation(), errors
        except redis.RedisError as exc:
            errors.append(type(exc).__name__)
            if time.monotonic() > deadline:
                raise AssertionError(f"still failing at the deadline: {errors[-5:]}") from exc
            time.sleep(0.05)
