"""The library's exceptions: bad input, a store that cannot be reached, foreign data."""

from __future__ import annotations

from typing import Literal

ErrorName = Literal["missingParameter", "invalidFormat", "invalidValue"]


class ValidationError(ValueError):
    """Bad input. `.name` and the message are those of redis-sessions 4.0.0."""

    def __init__(self, name: ErrorName, message: str) -> None:
        super().__init__(message)
        self.name: ErrorName = name
        self.message = message


class StoreUnavailable(ConnectionError):
    """Redis could not be reached (or did not answer in time).

    The message names the fault, never a command's arguments, so no token leaks into logs.
    """


class KillInterrupted(StoreUnavailable):
    """A kill that runs in batches (`killsoid`, `killall`) was cut off by a Redis fault.

    `.killed` sessions had been ended before the fault; the rest were not touched.
    """

    def __init__(self, message: str, *, killed: int, per_app: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.killed = killed
        self.per_app = per_app or {}  # for a kill across apps: what each app ended


class CorruptData(RuntimeError):
    """Redis holds data of another program where the layout expects ours: a key of another
    type, or a value this library cannot read. The message never holds a token."""


class CorruptSession(CorruptData):
    """A session hash written by another program holds data this library cannot read."""
