"""Connection faults: one library exception, reads retried, writes never, no token leaked."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator

import pytest
import redis

from project.redis_server import RedisServer, free_port
from sessions_core import RedisSessions, StoreUnavailable

from .conftest import APP
from .helpers import snapshot
from .proxy import FaultyProxy

TOKEN = "Secret0Token0That0Must0Never0Leak0Into0Logs0Or0Errors0ZZZZZZZZ"[:55] + "Zmb1x2y3z"
assert len(TOKEN) == 64

Operation = Callable[[RedisSessions], object]

READS: dict[str, Operation] = {
    "get": lambda rs: rs.get(app=APP, token=TOKEN),
    "get_many": lambda rs: rs.get_many(app=APP, tokens=[TOKEN]),
    "activity": lambda rs: rs.activity(app=APP, delta_time=600),
    "soapp": lambda rs: rs.soapp(app=APP, delta_time=600),
    "soid": lambda rs: rs.soid(app=APP, id="u1"),
    "ping": lambda rs: rs.ping(),
    "apps": lambda rs: rs.apps(),
    "app_stats": lambda rs: rs.app_stats(apps=[APP]),
    "activity_histogram": lambda rs: rs.activity_histogram(app=APP),
    "soapp_page": lambda rs: rs.soapp_page(app=APP, delta_time=600),
    "user_sessions": lambda rs: rs.user_sessions(app=APP, id="u1"),
    "user_page": lambda rs: rs.user_page(app=APP, id="u1"),
}
WRITES: dict[str, Operation] = {
    "create": lambda rs: rs.create(app=APP, id="u1", ip="10.0.0.1", d={"t": TOKEN}),
    "create_many": lambda rs: rs.create_many(app=APP, sessions=[{"id": "u1", "ip": "10.0.0.1"}]),
    "set": lambda rs: rs.set(app=APP, token=TOKEN, d={"a": 1}),
    "kill": lambda rs: rs.kill(app=APP, token=TOKEN),
    "killsoid": lambda rs: rs.killsoid(app=APP, id="u1"),
    "killall": lambda rs: rs.killall(app=APP),
}
# These read first (the user's tokens, the wipe backlog), and that read is retried.
READ_THEN_WRITE: dict[str, Operation] = {
    "kill_by_handle": lambda rs: rs.kill_by_handle(app=APP, id="u1", handle="0" * 24),
    "wipe": lambda rs: rs.wipe(),
}
ALL = {**READS, **WRITES, **READ_THEN_WRITE}


@pytest.fixture
def nowhere() -> Iterator[RedisSessions]:
    """A store pointed at a port nobody listens on."""
    store = RedisSessions(url=f"redis://127.0.0.1:{free_port()}/0", read_retries=1)
    yield store
    store.close()


@pytest.fixture
def proxy(redis_url: str, redis_server: RedisServer) -> Iterator[FaultyProxy]:
    with FaultyProxy(redis_server.port) as p:
        yield p


@pytest.mark.parametrize("operation", ALL.values(), ids=ALL.keys())
def test_unreachable_redis_raises_store_unavailable_without_the_token(
    nowhere: RedisSessions, operation: Operation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StoreUnavailable) as caught:
        operation(nowhere)
    error = caught.value
    assert isinstance(error, ConnectionError)
    assert "Redis is unreachable" in str(error)
    shown = "".join(traceback.format_exception(error))
    assert TOKEN not in shown
    assert TOKEN not in repr(error)
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_store_unavailable_names_the_server_it_tried(nowhere: RedisSessions) -> None:
    with pytest.raises(StoreUnavailable) as caught:
        nowhere.ping()
    port = nowhere.redis.connection_pool.connection_kwargs["port"]
    assert f"127.0.0.1:{port}" in str(caught.value)


def test_a_read_is_retried_and_succeeds_when_redis_answers_again(
    redis_url: str, proxy: FaultyProxy, rs: RedisSessions
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    rs.get(app=APP, token=token)  # the script is loaded: no SCRIPT LOAD connection below
    proxy.drop_next = 2
    with RedisSessions(url=proxy.url, read_retries=3) as store:
        session = store.get(app=APP, token=token)
    assert session is not None and session["id"] == "u1"
    assert proxy.accepted == 3


def test_a_read_gives_up_after_its_retries(proxy: FaultyProxy) -> None:
    proxy.drop_next = 100
    with RedisSessions(url=proxy.url, read_retries=2) as store, pytest.raises(StoreUnavailable):
        store.ping()
    assert proxy.accepted == 3


@pytest.mark.parametrize("operation", WRITES.values(), ids=WRITES.keys())
def test_a_write_is_never_retried(proxy: FaultyProxy, r: redis.Redis, operation: Operation) -> None:
    # A lost reply must not apply a write twice, so writes get exactly one attempt.
    before = snapshot(r)
    with RedisSessions(url=proxy.url, read_retries=3) as store:
        store.ping()  # the first request also asks whether the server is a cluster
        store.redis.connection_pool.disconnect()
        proxy.drop_next, accepted = 100, proxy.accepted
        with pytest.raises(StoreUnavailable):
            operation(store)
    assert proxy.accepted - accepted == 1
    assert snapshot(r) == before


def test_a_hung_redis_raises_store_unavailable_after_the_socket_timeout(
    proxy: FaultyProxy,
) -> None:
    proxy.silent = True
    with (
        RedisSessions(url=proxy.url, read_retries=0, socket_timeout=0.2) as store,
        pytest.raises(StoreUnavailable) as caught,
    ):
        store.get(app=APP, token=TOKEN)
    assert "TimeoutError" in str(caught.value)
    assert TOKEN not in "".join(traceback.format_exception(caught.value))


def test_the_store_works_again_once_redis_is_back(proxy: FaultyProxy, rs: RedisSessions) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    with RedisSessions(url=proxy.url, read_retries=0) as store:
        proxy.drop_next = 1
        with pytest.raises(StoreUnavailable):
            store.set(app=APP, token=token, d={"a": 1})
        session = store.set(app=APP, token=token, d={"a": 2})
    assert session is not None and session.get("d") == {"a": 2}
