"""Read and age what is stored in Redis, for comparing the two implementations."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis

NS = "rs"
# Keys of our own that the Node library never reads or writes (see sessions_core/keys.py).
OUR_OWN_KEYS = {f"{NS}:_apps", f"{NS}:_wipe"}
T = TypeVar("T")


def snapshot(raw: redis.Redis, tokens: dict[str, str]) -> dict[str, Any]:
    """Every key of the namespace with its content, tokens replaced by their labels.

    Hash `la` and zset scores are times: `la` is dropped (checked by the caller if needed)
    and scores are made relative to the session's `la`, so two stores written seconds
    apart compare equal.
    """

    client: Any = raw  # decode_responses=True: every reply is str

    def label(text: str) -> str:
        for token, name in tokens.items():
            text = text.replace(token, name)
        return text

    hashes = {
        key: client.hgetall(key) for key in client.keys(f"{NS}:*") if client.type(key) == "hash"
    }
    las = [int(h["la"]) for h in hashes.values() if "la" in h]
    base = min(las) if las else 0
    out: dict[str, Any] = {}
    for key in sorted(client.keys(f"{NS}:*")):
        if key in OUR_OWN_KEYS:
            continue
        kind = client.type(key)
        if kind == "hash":
            content: Any = {f: v for f, v in client.hgetall(key).items() if f != "la"}
        elif kind == "zset":
            content = {label(m): s - base for m, s in client.zrange(key, 0, -1, withscores=True)}
        elif kind == "set":
            content = sorted(label(m) for m in client.smembers(key))
        else:
            content = f"unexpected {kind}"
        out[label(key)] = (kind, content)
    return out


def age(raw: redis.Redis, app: str, token: str, seconds: int) -> None:
    """Move a session's last activity `seconds` into the past, in the hash and every index."""
    client: Any = raw  # decode_responses=True: every reply is str
    key = f"{NS}:{app}:{token}"
    id, la, ttl = client.hmget(key, ["id", "la", "ttl"])
    assert id is not None and la is not None and ttl is not None, "no such session"
    then = int(la) - seconds
    client.hset(key, "la", then)
    client.zadd(f"{NS}:{app}:_sessions", {f"{token}:{id}": then})
    client.zadd(f"{NS}:{app}:_users", {id: then})
    client.zadd(f"{NS}:SESSIONS", {f"{app}:{token}:{id}": then + int(ttl)})


def wait_until(read: Callable[[], T], done: Callable[[T], bool], timeout: float = 5.0) -> T:
    """Poll `read()` until `done(value)`, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"condition not met in {timeout} s: {value!r}"
