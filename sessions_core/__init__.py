"""A Python port of redis-sessions 4.0.0: same operations, messages and Redis layout."""

from .aio import AsyncRedisSessions
from .errors import (
    CorruptData,
    CorruptSession,
    KillInterrupted,
    StoreUnavailable,
    ValidationError,
)
from .keys import Keys
from .store import RedisSessions
from .types import (
    Activity,
    AppSessionPage,
    AppStats,
    DValue,
    Killed,
    NewSession,
    ServerInfo,
    Session,
    SessionPage,
    SessionRow,
    Sessions,
    Token,
    WipeReport,
)

__all__ = [
    "Activity",
    "AppSessionPage",
    "AppStats",
    "AsyncRedisSessions",
    "CorruptData",
    "CorruptSession",
    "DValue",
    "Keys",
    "KillInterrupted",
    "Killed",
    "NewSession",
    "RedisSessions",
    "ServerInfo",
    "Session",
    "SessionPage",
    "SessionRow",
    "Sessions",
    "StoreUnavailable",
    "Token",
    "ValidationError",
    "WipeReport",
]
