"""The library, both classes, and the dashboard over TLS: a standalone server and a 3-master
cluster that serve TLS only (client connections, cluster bus and replication), with a test
certificate authority (project/tls.py) that clients trust through the URL's `ssl_ca_certs`,
as an application would configure it, or through clients of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
from django.test import Client

from project.redis_cluster import RedisClusterServers
from project.redis_server import RedisServer
from project.tls import TlsFiles, make_tls_files
from sessions_core import AsyncRedisSessions, RedisSessions, StoreUnavailable
from tests.stores import KINDS, open_store

APP = "tlsapp"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_server(
    tls_files: TlsFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis-tls"), tls=tls_files) as server:
        yield server


@pytest.fixture(scope="module")
def tls_cluster(tls_files: TlsFiles) -> Iterator[RedisClusterServers]:
    with RedisClusterServers(masters=3, replicas=0, tls=tls_files) as cluster:
        yield cluster


@pytest.fixture(params=["standalone", "cluster"])
def tls_url(request: pytest.FixtureRequest, tls_server: RedisServer, tls_files: TlsFiles) -> str:
    """A `rediss://` URL of the TLS server or of a node of the TLS cluster, data flushed."""
    if request.param == "cluster":
        cluster: RedisClusterServers = request.getfixturevalue("tls_cluster")
        cluster.flushall()
        return cluster.url
    with redis.Redis(port=tls_server.port, **tls_files.client_kwargs()) as client:
        client.flushall()
    return tls_server.url


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_operation_works_over_tls(tls_url: str, kind: str) -> None:
    stores = open_store(kind, tls_url)
    rs = next(stores)
    token = rs.create(app=APP, id="ann", ip="10.0.0.1")["token"]
    more = rs.create_many(app=APP, sessions=[{"id": f"u{i}", "ip": "10.0.0.2"} for i in range(50)])
    assert rs.get(app=APP, token=token)["id"] == "ann"  # type: ignore[index]
    assert [s["id"] for s in rs.get_many(app=APP, tokens=[t["token"] for t in more[:3]])] == [  # type: ignore[index]
        "u0",
        "u1",
        "u2",
    ]
    assert rs.set(app=APP, token=token, d={"cart": 3})["d"] == {"cart": 3}  # type: ignore[index]
    assert [s["id"] for s in rs.soid(app=APP, id="ann")["sessions"]] == ["ann"]
    assert rs.activity(app=APP, delta_time=600) == {"activity": 51}
    assert len(rs.soapp(app=APP, delta_time=600)["sessions"]) == 51
    assert rs.kill(app=APP, token=more[0]["token"]) == {"kill": 1}
    assert rs.killsoid(app=APP, id="ann") == {"kill": 1}
    assert rs.killall(app=APP) == {"kill": 49}
    assert rs.ping() == "PONG"
    next(stores, None)


def test_a_url_that_does_not_trust_the_servers_authority_is_refused(
    tls_server: RedisServer,
) -> None:
    url = f"rediss://127.0.0.1:{tls_server.port}/0"  # the system's authorities only
    with RedisSessions(url=url, read_retries=0) as rs, pytest.raises(StoreUnavailable) as caught:
        rs.ping()
    assert f"127.0.0.1:{tls_server.port}" in str(caught.value)


def test_a_given_sync_tls_client_serves_and_its_cache_listener_subscribes(
    tls_server: RedisServer, tls_files: TlsFiles
) -> None:
    client = redis.Redis(port=tls_server.port, decode_responses=True, **tls_files.client_kwargs())
    with RedisSessions(client=client, cachetime=60) as rs:
        assert rs.cache is not None and rs.cache.subscribed.wait(5)
        token = rs.create(app=APP, id="ann", ip="10.0.0.1")["token"]
        assert rs.get(app=APP, token=token) is not None
    client.close()


def _async_given(client: Any, **options: Any) -> tuple[bool, str | None]:
    """With AsyncRedisSessions on `client` (built inside the loop): whether its cache listener
    subscribed, and the id of a session created and read back."""

    async def run() -> tuple[bool, str | None]:
        given = client()
        store = AsyncRedisSessions(client=given, **options)
        try:
            subscribed = store.cache is not None and store.cache.subscribed.is_set()
            token = (await store.create(app=APP, id="ann", ip="10.0.0.1"))["token"]
            found = await store.get(app=APP, token=token)
            return subscribed, None if found is None else found["id"]
        finally:
            await store.aclose()
            await given.aclose()

    return asyncio.run(run())


def test_a_given_async_tls_client_serves_and_its_cache_listener_subscribes(
    tls_server: RedisServer, tls_files: TlsFiles
) -> None:
    # The listener is a sync client built from the async client's settings: TLS and its
    # authority included (before, it connected in plain text and never subscribed).
    def client() -> redis.asyncio.Redis:
        return redis.asyncio.Redis(
            port=tls_server.port, decode_responses=True, **tls_files.client_kwargs()
        )

    assert _async_given(client, cachetime=60) == (True, "ann")


def test_a_given_async_tls_cluster_client_serves(
    tls_cluster: RedisClusterServers, tls_files: TlsFiles
) -> None:
    # Our per-node clients take the node's connection class and certificates (before, they
    # spoke plain text to the TLS ports of an async cluster, with or without a URL), and the
    # cache listener a startup node's settings (before, it failed: no default node yet).
    port = tls_cluster.ports[0]

    def client() -> redis.asyncio.cluster.RedisCluster:
        return redis.asyncio.cluster.RedisCluster(
            host="127.0.0.1", port=port, decode_responses=True, **tls_files.client_kwargs()
        )

    tls_cluster.flushall()
    assert _async_given(client, cachetime=60) == (True, "ann")


def test_the_dashboard_serves_a_tls_cluster(
    tls_cluster: RedisClusterServers, settings: Any, admin_client: Client
) -> None:
    tls_cluster.flushall()
    settings.REDIS_URL = tls_cluster.url
    with RedisSessions(url=tls_cluster.url) as rs:
        rs.create(app=APP, id="ann", ip="10.0.0.1")
    assert admin_client.get("/").status_code == 200
    page = admin_client.get(f"/apps/{APP}/")
    assert page.status_code == 200
    assert b"ann" in page.content
