"""Operations as plans: generators that yield Redis requests and are sent their replies.

Each operation is written once, free of I/O, and `RedisSessions` (redis-py) and
`AsyncRedisSessions` (redis.asyncio) run the same plans. A driver answers a `Run` with the
script's reply, a `Pipe` with every reply in order (an error reply in place, as its
exception) and an `Every` with each master's reply; a fault is thrown into the plan as
`StoreUnavailable` or `CorruptData`. Reads are retried on connection faults, writes
(`write=True`) never: a lost reply must not apply a write twice.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .scripts import LuaScript

T = TypeVar("T")
Key = str | bytes
Arg = str | bytes | int | float
Command = tuple[Any, ...]  # ("HMGET", key, field, ...), as redis-py's execute_command takes it


# Requests are made once or more per call, so they are plain slotted dataclasses (a frozen
# one's __init__ costs 0.3 µs, this 0.1 µs, of a get's 5 µs in Python). Nothing changes them.
@dataclass(slots=True)
class Run:
    """One script call."""

    script: LuaScript
    keys: Sequence[Key]
    args: Sequence[Arg]
    write: bool = False


@dataclass(slots=True)
class Pipe:
    """Commands and script calls in one pipelined round trip (not a transaction)."""

    items: Sequence[Run | Command]
    write: bool = False


@dataclass(slots=True)
class Every:
    """One keyless command (INFO) on every master: the server, or each master of a cluster;
    the replies in a list."""

    command: Command
    write: bool = False


Request = Run | Pipe | Every
Plan = Generator[Request, Any, T]
