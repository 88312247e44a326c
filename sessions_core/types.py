"""Typed shapes of what the library returns."""

from __future__ import annotations

from typing import NotRequired, TypedDict

DValue = str | int | float | bool | None


class Session(TypedDict):
    """A session exactly as redis-sessions 4.0.0 returns it."""

    id: str
    r: int
    w: int
    ttl: int
    idle: int
    ip: str
    no_resave: NotRequired[bool]
    d: NotRequired[dict[str, DValue]]


class Token(TypedDict):
    token: str


class Killed(TypedDict):
    kill: int


class Activity(TypedDict):
    activity: int


class Sessions(TypedDict):
    sessions: list[Session]


class NewSession(TypedDict):
    """One entry of `create_many`'s `sessions` argument."""

    id: str
    ip: str
    ttl: NotRequired[int | None]
    d: NotRequired[dict[str, DValue] | None]
    no_resave: NotRequired[bool]


class SessionRow(TypedDict):
    """A session as the dashboard lists it: never the token, only its handle."""

    handle: str
    session: Session
    last_activity: int
    expires_in: int
    problem: NotRequired[str]  # set when another program wrote what cannot be read


class SessionPage(TypedDict):
    total: int
    offset: int
    limit: int
    rows: list[SessionRow]
    problem: NotRequired[str]  # set when the index holds another program's key
    complete: NotRequired[bool]  # a bounded search: False when it stopped before the end


class AppSessionPage(SessionPage):
    """One app's page of an id's sessions, in a search across apps."""

    app: str


class ServerInfo(TypedDict):
    """What the dashboard's Redis panel shows of the server, or of a cluster's masters
    summed."""

    version: str  # the masters' versions, " / " between them when they differ
    masters: int  # 1 but on a cluster
    used_memory: int  # bytes
    connected_clients: int
    ops_per_sec: int


class AppStats(TypedDict):
    app: str
    sessions: int
    users: int
    active: dict[int, int]
    problem: NotRequired[str]  # set when the app's indexes hold another program's keys


class WipeReport(TypedDict):
    started_at: float
    duration: float
    removed: int
    per_app: dict[str, int]
    remaining: int
    foreign_keys: list[str]  # index keys of another type the pass left alone
