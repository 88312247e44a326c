"""The optional in-process cache: served without Redis, dropped by `{ns}:cache` messages
from any instance (ours or Node's), never served while its listener is not subscribed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio

from project.redis_server import RedisServer, free_port
from sessions_core import AsyncRedisSessions, RedisSessions, StoreUnavailable

from .conftest import APP
from .helpers import CHANNEL, snapshot, wait_for


def _cached_store(url: str, **options: object) -> RedisSessions:
    store = RedisSessions(url=url, cachetime=60, **options)  # type: ignore[arg-type]
    assert store.cache is not None
    assert store.cache.subscribed.wait(5), "the cache listener never subscribed"
    return store


@pytest.fixture
def cached(redis_url: str) -> Iterator[RedisSessions]:
    store = _cached_store(redis_url)
    yield store
    store.close()


def _d_of(store: RedisSessions, token: str) -> object:
    session = store.get(app=APP, token=token)
    return None if session is None else session.get("d")


def test_no_cache_without_cachetime(rs: RedisSessions) -> None:
    assert rs.cache is None


def test_get_served_from_the_cache_does_not_touch_redis(
    cached: RedisSessions, r: redis.Redis, token: str
) -> None:
    first = cached.get(app=APP, token=token)
    before = snapshot(r)
    second = cached.get(app=APP, token=token)
    assert snapshot(r) == before
    # Like the original, a cached reply keeps its r and idle.
    assert second == first
    assert r.hget(f"rs:myapp:{token}", "r") == "2"


def test_cached_sessions_are_copies(cached: RedisSessions, token: str) -> None:
    first = cached.get(app=APP, token=token)
    assert first is not None
    first["id"] = "tampered"
    second = cached.get(app=APP, token=token)
    assert second is not None and second["id"] == "user1001"


def test_unknown_tokens_are_not_cached(cached: RedisSessions) -> None:
    unknown = "A" * 55 + "Z" + "a" * 8
    assert cached.get(app=APP, token=unknown) is None
    assert cached.cache is not None and len(cached.cache) == 0


def test_set_from_another_instance_drops_the_cached_session(
    cached: RedisSessions, rs: RedisSessions, token: str
) -> None:
    assert _d_of(cached, token) is None
    rs.set(app=APP, token=token, d={"unread": 12})
    wait_for(lambda: _d_of(cached, token) == {"unread": 12}, what="the cache entry to drop")


def test_kill_from_another_instance_drops_the_cached_session(
    cached: RedisSessions, rs: RedisSessions, token: str
) -> None:
    assert cached.get(app=APP, token=token) is not None
    rs.kill(app=APP, token=token)
    wait_for(lambda: cached.get(app=APP, token=token) is None, what="the cache entry to drop")


def test_killsoid_from_another_instance_drops_every_cached_session_of_the_id(
    cached: RedisSessions, rs: RedisSessions
) -> None:
    tokens = [rs.create(app=APP, id="u1", ip="10.0.0.1")["token"] for _ in range(2)]
    assert all(cached.get(app=APP, token=t) is not None for t in tokens)
    rs.killsoid(app=APP, id="u1")
    wait_for(
        lambda: all(cached.get(app=APP, token=t) is None for t in tokens),
        what="the cache entries to drop",
    )


def test_killall_from_another_instance_drops_the_apps_cached_sessions(
    cached: RedisSessions, rs: RedisSessions, token: str
) -> None:
    assert cached.get(app=APP, token=token) is not None
    rs.killall(app=APP)
    wait_for(lambda: cached.get(app=APP, token=token) is None, what="the cache entry to drop")


def test_a_node_style_cache_message_drops_the_cached_session(
    cached: RedisSessions, r: redis.Redis, token: str
) -> None:
    assert cached.get(app=APP, token=token) is not None
    # What the Node library's set/kill publish; here the hash changes behind the cache's back.
    r.hset(f"rs:myapp:{token}", "d", '{"from":"node"}')
    r.publish(CHANNEL, f"{APP}:{token}")
    wait_for(lambda: _d_of(cached, token) == {"from": "node"}, what="the cache entry to drop")


def test_a_message_for_another_session_keeps_the_entry(
    cached: RedisSessions, rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    first = cached.get(app=APP, token=token)
    second = rs.create(app=APP, id="u2", ip="10.0.0.1")["token"]
    assert cached.get(app=APP, token=second) is not None
    r.publish(CHANNEL, f"{APP}:{'B' * 64}")
    r.publish(CHANNEL, f"{APP}:{second}")
    # The listener handles messages in order: once the second entry is gone, the message
    # before it has been handled too.
    wait_for(lambda: len(cached.cache or []) == 1, what="the second entry to drop")
    # Still served from the cache: a read from Redis would report r == 2.
    assert cached.get(app=APP, token=token) == first


def test_set_on_the_caching_instance_is_seen_at_once(cached: RedisSessions, token: str) -> None:
    assert _d_of(cached, token) is None
    cached.set(app=APP, token=token, d={"a": 1})
    assert _d_of(cached, token) == {"a": 1}


def test_kill_on_the_caching_instance_is_seen_at_once(cached: RedisSessions, token: str) -> None:
    assert cached.get(app=APP, token=token) is not None
    cached.kill(app=APP, token=token)
    assert cached.get(app=APP, token=token) is None


def test_get_many_serves_cached_sessions_and_caches_the_rest(
    cached: RedisSessions, rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    other = rs.create(app=APP, id="u2", ip="10.0.0.1")["token"]
    first = cached.get(app=APP, token=token)
    assert [s["id"] if s else None for s in cached.get_many(app=APP, tokens=[token, other])] == [
        "user1001",
        "u2",
    ]
    before = snapshot(r)
    again = cached.get_many(app=APP, tokens=[other, token])
    assert snapshot(r) == before
    assert again[1] == first
    rs.set(app=APP, token=other, d={"a": 1})

    def d_of_other() -> object:
        [session] = cached.get_many(app=APP, tokens=[other])
        return None if session is None else session.get("d")

    wait_for(lambda: d_of_other() == {"a": 1}, what="the cache entry to drop")


def test_cachemax_bounds_the_number_of_cached_sessions(redis_url: str, rs: RedisSessions) -> None:
    store = _cached_store(redis_url, cachemax=2)
    try:
        for i in range(3):
            token = rs.create(app=APP, id=f"u{i}", ip="10.0.0.1")["token"]
            store.get(app=APP, token=token)
        assert store.cache is not None and len(store.cache) == 2
    finally:
        store.close()


def test_a_store_on_a_given_client_listens_on_that_clients_server(
    redis_url: str, r: redis.Redis, rs: RedisSessions, token: str
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    ((_, listening),) = r.pubsub_numsub(CHANNEL)  # other suites' servers may listen already
    # `url` is left at its default: the listener must follow the client, not the url.
    store = RedisSessions(client=client, cachetime=60)
    try:
        assert store.cache is not None and store.cache.subscribed.wait(5)
        assert r.pubsub_numsub(CHANNEL) == [(CHANNEL, listening + 1)]
        assert _d_of(store, token) is None
        rs.set(app=APP, token=token, d={"a": 1})
        wait_for(lambda: _d_of(store, token) == {"a": 1}, what="the cache entry to drop")
    finally:
        store.close()
    assert client.ping()  # closing the store's listener left the caller's client usable
    client.close()


def test_a_client_without_decode_responses_is_refused(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    with pytest.raises(ValueError, match="decode_responses=True"):
        RedisSessions(client=client)
    client.close()


def test_listener_resubscribes_after_a_redis_restart_and_never_serves_stale(
    tmp_path: Path,
) -> None:
    # A private server on a fixed port, so it can be stopped and started again.
    server = RedisServer(tmp_path, port=free_port()).start()
    store = _cached_store(server.url, read_retries=0)
    cache = store.cache
    assert cache is not None
    try:
        token = store.create(app=APP, id="u1", ip="10.0.0.1")["token"]
        assert store.get(app=APP, token=token) is not None

        server.stop()
        wait_for(lambda: not cache.subscribed.is_set(), what="the listener to notice")
        # Invalidations could be missed now, so the cached session must not be served.
        with pytest.raises(StoreUnavailable):
            store.get(app=APP, token=token)

        server.start()
        assert cache.subscribed.wait(10), "the listener never resubscribed"
        token = store.create(app=APP, id="u1", ip="10.0.0.1")["token"]
        assert _d_of(store, token) is None
        with RedisSessions(url=server.url) as other:
            other.set(app=APP, token=token, d={"after": "restart"})
        wait_for(lambda: _d_of(store, token) == {"after": "restart"}, what="the entry to drop")
    finally:
        store.close()
        server.stop()


def test_a_new_caching_instance_serves_its_first_reads_from_the_cache(
    redis_url: str, r: redis.Redis
) -> None:
    # The constructor waits for the listener's subscription, so the very first get is stored
    # and the second served, as in the original (no thread timing involved).
    with RedisSessions(url=redis_url, cachetime=60) as store:
        assert store.cache is not None and store.cache.subscribed.is_set()
        token = store.create(app=APP, id="u1", ip="10.0.0.1")["token"]
        first = store.get(app=APP, token=token)
        assert store.get(app=APP, token=token) == first
    assert r.hget(f"rs:{APP}:{token}", "r") == "2"  # one read reached Redis


def test_the_cache_of_a_given_async_client_on_a_unix_socket_subscribes(tmp_path: Path) -> None:
    # The listener is a sync client built from the async client's settings; redis-py names a
    # socket path differently in the two (before, the listener failed with a TypeError).
    async def subscribed(path: str) -> bool:
        client = redis.asyncio.Redis(unix_socket_path=path, decode_responses=True)
        store = AsyncRedisSessions(client=client, cachetime=60)
        try:
            token = (await store.create(app=APP, id="u1", ip="10.0.0.1"))["token"]
            assert await store.get(app=APP, token=token) is not None
            return store.cache is not None and store.cache.subscribed.is_set()
        finally:
            await store.aclose()
            await client.aclose()

    with RedisServer(tmp_path, unix_socket=True) as server:
        assert asyncio.run(subscribed(str(server.socket_path)))
