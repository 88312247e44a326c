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


RECOVERY = 15.0  # the promise


def until_it_answers(call: Callable[[], T]) -> tuple[T, list[Exception]]:
    """Call until it succeeds (within RECOVERY s); returns the answer and the errors seen."""
    errors: list[Exception] = []
    deadline = time.monotonic() + RECOVERY
    while True:
        try:
            return call(), errors
        except Exception as error:  # every error is collected and checked by the caller
            errors.append(error)
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer within {RECOVERY} s: {errors[-3:]}") from None
            time.sleep(0.1)  # a retry pace, not synchronisation: the answer is awaited


def page_statuses_until_it_answers(client: Any, path: str) -> list[int]:
    """GET `path` until it answers 200 (within RECOVERY s); every status seen on the way."""
    statuses: list[int] = []

    def page() -> int:
        status = int(client.get(path).status_code)
        statuses.append(status)
        if status != 200:
            raise RuntimeError(status)
        return status

    until_it_answers(page)
    return statuses
