"""The library's exceptions: bad input, and a store that cannot be reached."""

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


class CorruptSession(RuntimeError):
    """A session hash written by another program holds data this library cannot merge."""
