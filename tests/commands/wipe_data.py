"""Sessions for the wipe tests, written the way the Node original lays them out.

A Node app's sessions are plain Redis writes (no Lua), so they are written here with raw
commands; a session is timed out when its `la` + `ttl` (and its `{ns}:SESSIONS` score) lie in
the past. Key names come from `sessions_core.Keys`, the one place that knows them.
"""

from __future__ import annotations

import secrets
import time

import redis

from sessions_core import Keys

KEYS = Keys("rs")
TTL = 3600


def node_token() -> str:
    """64 characters of [A-Za-z0-9], like the original's tokens (hex is fast and a subset)."""
    return secrets.token_hex(32)


def write_node_session(
    client: redis.Redis | redis.client.Pipeline,
    app: str,
    id: str,
    *,
    timed_out: bool,
    token: str | None = None,
) -> str:
    """One session as redis-sessions 4.0.0's `create` writes it; returns its token."""
    token = token or node_token()
    now = int(time.time())
    la = now - TTL - 60 if timed_out else now
    client.hset(
        KEYS.session(app, token),
        mapping={"id": id, "r": 1, "w": 1, "ip": "10.0.0.1", "la": la, "ttl": TTL},
    )
    client.sadd(KEYS.user_tokens(app, id), token)
    client.zadd(KEYS.app_sessions(app), {f"{token}:{id}": la})
    client.zadd(KEYS.app_users(app), {id: la}, gt=True)
    client.zadd(KEYS.all_sessions, {f"{app}:{token}:{id}": la + TTL})
    return token


def write_timed_out_backlog(r: redis.Redis, sessions: int, apps: int = 3) -> None:
    """`sessions` timed-out Node sessions over `apps` apps, in pipelined chunks."""
    pipe = r.pipeline(transaction=False)
    for i in range(sessions):
        write_node_session(pipe, f"app{i % apps}", f"user{i}", timed_out=True)
        if i % 2000 == 1999:
            pipe.execute()
    pipe.execute()


def time_out(r: redis.Redis, app: str, token: str) -> None:
    """Move a live session's last activity one ttl (and a minute) into the past."""
    key = KEYS.session(app, token)
    id, ttl = (str(value) for value in r.hmget(key, ["id", "ttl"]))
    la = int(time.time()) - int(ttl) - 60
    r.hset(key, "la", la)
    r.zadd(KEYS.app_sessions(app), {f"{token}:{id}": la})
    r.zadd(KEYS.all_sessions, {f"{app}:{token}:{id}": la + int(ttl)})


def session_traces(r: redis.Redis, app: str, token: str, id: str) -> dict[str, bool]:
    """Where a session still leaves a trace: its hash and each index entry."""
    return {
        "hash": bool(r.exists(KEYS.session(app, token))),
        "app_sessions": r.zscore(KEYS.app_sessions(app), f"{token}:{id}") is not None,
        "all_sessions": r.zscore(KEYS.all_sessions, f"{app}:{token}:{id}") is not None,
        "user_tokens": bool(r.sismember(KEYS.user_tokens(app, id), token)),
    }
