"""A cached `get` never keeps a reply that raced with an invalidation.

The interleaving is forced, not hoped for: the caching instance's read is held just after
Redis answered it, another instance then writes (or kills) the session, and the read goes on
only once the cache listener has handled that write's `{ns}:cache` message. The reply read
before the write is stale, so it must not be stored (see `SessionCache.tick` and `put`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sessions_core import RedisSessions
from sessions_core.types import Session

from .conftest import APP

WAIT = 10.0  # seconds: a deadline for each event, never a pause


@pytest.fixture
def cached(redis_url: str) -> Iterator[RedisSessions]:
    store = RedisSessions(url=redis_url, cachetime=600)
    assert store.cache is not None
    assert store.cache.subscribed.wait(WAIT), "the cache listener never subscribed"
    yield store
    store.close()


def _read(store: RedisSessions, how: str, token: str) -> Session | None:
    if how == "get":
        return store.get(app=APP, token=token)
    [session] = store.get_many(app=APP, tokens=[token])
    return session


def _write(store: RedisSessions, how: str, token: str) -> None:
    if how == "set":
        assert store.set(app=APP, token=token, d={"unread": 12}) is not None
    else:
        assert store.kill(app=APP, token=token) == {"kill": 1}


@pytest.mark.parametrize("write", ["set", "kill"])
@pytest.mark.parametrize("read", ["get", "get_many"])
def test_a_read_that_raced_with_another_instances_write_is_not_cached(
    cached: RedisSessions,
    rs: RedisSessions,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    read: str,
    write: str,
) -> None:
    cache = cached.cache
    assert cache is not None
    key = f"{APP}:{token}"  # the cache message, and the cache's key, of this session
    read_returned, release_read, message_handled = (threading.Event() for _ in range(3))
    real_read, real_drop = cached._execute, cache.drop

    def held_read(request: Any) -> Any:  # every Redis request of the store goes here
        reply = real_read(request)
        read_returned.set()
        release_read.wait(WAIT)
        return reply

    def watched_drop(k: str) -> None:  # the listener thread calls this for each message
        real_drop(k)
        if k == key:
            message_handled.set()

    monkeypatch.setattr(cached, "_execute", held_read)
    monkeypatch.setattr(cache, "drop", watched_drop)

    replies: list[Session | None] = []
    reader = threading.Thread(target=lambda: replies.append(_read(cached, read, token)))
    reader.start()
    try:
        assert read_returned.wait(WAIT), "the read never returned from Redis"
        _write(rs, write, token)  # another instance: it can only reach the cache via pub/sub
        assert message_handled.wait(WAIT), "the listener never handled the cache message"
    finally:
        release_read.set()
        reader.join(WAIT)
    assert not reader.is_alive()

    [raced] = replies
    assert raced is not None and "d" not in raced  # read before the write: now stale
    assert len(cache) == 0, "the stale reply was cached"
    after = _read(cached, read, token)
    if write == "set":
        assert after is not None and after.get("d") == {"unread": 12}
    else:
        assert after is None


def test_a_read_that_did_not_race_is_cached(cached: RedisSessions, token: str) -> None:
    """The control: without a concurrent write the same read is stored and then served."""
    cache = cached.cache
    assert cache is not None
    first = cached.get(app=APP, token=token)
    assert first is not None and len(cache) == 1
    assert cached.get(app=APP, token=token) == first  # a read from Redis would count r == 2
