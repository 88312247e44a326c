"""The library, the dashboard and the wipe loop on a real Redis Cluster (3 masters, 3 replicas):
one app spread over every master, one user's keys on one slot, exact counts across buckets, the
bucket count kept in Redis, and `REDIS_URL` naming any node just working.

The operations' results are the standalone ones: tests/core runs on the cluster too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import Client
from redis.cluster import RedisCluster
from redis.crc import key_slot

from project.redis_cluster import RedisClusterServers, wait_until
from sessions_core import AsyncRedisSessions, RedisSessions
from sessions_core.demo import Backdate
from sessions_core.keys import ClusterKeys
from tests.commands.test_wipe_service import Wiper
from tests.stores import KINDS, open_store

APP = "shop"


@pytest.fixture(params=KINDS)
def rs(request: pytest.FixtureRequest, redis_cluster_url: str) -> Iterator[RedisSessions]:
    yield from open_store(request.param, redis_cluster_url)


def master_keys(cluster: RedisClusterServers) -> dict[int, list[str]]:
    """Every key of each master, by port."""
    found: dict[int, list[str]] = {}
    for master in cluster.masters():
        with redis.Redis(port=master.port, decode_responses=True) as client:
            found[master.port] = list(client.scan_iter(count=1000))
    return found


def test_the_layout_is_detected_from_any_node(
    redis_cluster: RedisClusterServers, redis_cluster_url: str
) -> None:
    for url in redis_cluster.urls:
        with RedisSessions(url=url) as store:
            assert store.ping() == "PONG"
            assert isinstance(store.keys, ClusterKeys)
            assert store.keys.bucket_count == 64


def test_one_apps_sessions_spread_over_every_master(
    redis_cluster: RedisClusterServers, rs: RedisSessions
) -> None:
    sessions = [{"id": f"user{i}", "ip": "10.0.0.1"} for i in range(3000)]
    rs.create_many(app=APP, sessions=sessions)  # type: ignore[arg-type]
    per_master = {port: len(keys) for port, keys in master_keys(redis_cluster).items()}
    total = sum(per_master.values())
    assert len(per_master) == 3
    for port, count in per_master.items():
        assert 0.20 <= count / total <= 0.47, (port, per_master)


def test_every_key_of_one_user_sits_on_one_slot(
    redis_cluster: RedisClusterServers, rs: RedisSessions
) -> None:
    tokens = [rs.create(app=APP, id="ann:{x}/é", ip="10.0.0.1")["token"] for _ in range(5)]
    keys = [k for found in master_keys(redis_cluster).values() for k in found]
    slots = {key_slot(k.encode()) for k in keys if k != "rs:_apps" and k != "rs:_buckets"}
    assert len(slots) == 1, keys
    bucket = rs.keys.of_id(APP, "ann:{x}/é")
    assert {rs.keys.of_token(APP, t) for t in tokens} == {bucket}
    assert bucket.session(tokens[0]) in keys


def test_activity_counts_each_id_once_across_buckets(rs: RedisSessions) -> None:
    sessions = [{"id": f"u{i % 300}", "ip": "10.0.0.1"} for i in range(900)]
    rs.create_many(app=APP, sessions=sessions)  # type: ignore[arg-type]
    assert rs.activity(app=APP, delta_time=600) == {"activity": 300}
    (stats,) = rs.app_stats(apps=[APP], windows=[600])
    assert stats["sessions"] == 900 and stats["users"] == 300
    assert len(rs.soapp(app=APP, delta_time=600)["sessions"]) == 900
    assert rs.killall(app=APP) == {"kill": 900}
    assert rs.activity(app=APP, delta_time=600) == {"activity": 0}


def test_pages_merge_the_buckets_newest_first(rs: RedisSessions) -> None:
    tokens = [rs.create(app=APP, id=f"u{i}", ip="10.0.0.1")["token"] for i in range(40)]
    rs.backdate_many(
        app=APP,
        sessions=[{"token": t, "id": f"u{i}", "idle": i * 10} for i, t in enumerate(tokens)],
    )
    newest = rs.soapp_page(app=APP, delta_time=10_000, offset=5, limit=10)
    assert newest["total"] == 40
    assert [row["session"]["id"] for row in newest["rows"]] == [f"u{i}" for i in range(5, 15)]
    oldest = rs.soapp_page(app=APP, delta_time=10_000, offset=0, limit=3, oldest_first=True)
    assert [row["session"]["id"] for row in oldest["rows"]] == ["u39", "u38", "u37"]


@pytest.mark.parametrize("seconds", [20, 1], ids=["20-seconds", "one-second"])
@pytest.mark.parametrize("oldest_first", [False, True])
def test_pages_and_the_export_walk_are_slices_of_one_order(
    rs: RedisSessions, oldest_first: bool, seconds: int
) -> None:
    # 2,600 sessions over 20 last-activity seconds, or all in one (equal scores run bucket
    # after bucket: the walk grows its reads, and a page's walk gives way to reading every
    # bucket down to the page). Pages from either end, past FAR_PAGE_FROM too, and the
    # export's walk must all be slices of soapp's order (every bucket read whole, merged).
    n = 2600
    made = rs.create_many(app=APP, sessions=[{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(n)])
    rs.backdate_many(
        app=APP,
        sessions=[
            {"token": t["token"], "id": f"u{i}", "idle": i % seconds} for i, t in enumerate(made)
        ],
    )
    order = [s["id"] for s in rs.soapp(app=APP, delta_time=600)["sessions"]]
    if oldest_first:
        order.reverse()
    assert len(order) == n
    walk = [
        row["session"]["id"]
        for chunk in rs.soapp_chunks(app=APP, delta_time=600, oldest_first=oldest_first)
        for row in chunk
    ]
    assert walk == order
    for offset, limit in [(0, 50), (500, 50), (1000, 50), (1250, 100), (1400, 50), (2550, 100)]:
        page = rs.soapp_page(
            app=APP, delta_time=600, offset=offset, limit=limit, oldest_first=oldest_first
        )
        assert page["total"] == n
        ids = [row["session"]["id"] for row in page["rows"]]
        assert ids == order[offset : offset + limit], offset
    past = rs.soapp_page(app=APP, delta_time=600, offset=n, limit=10, oldest_first=oldest_first)
    assert past["rows"] == [] and past["total"] == n


def test_the_bucket_count_is_fixed_by_the_first_process(redis_cluster_url: str) -> None:
    with RedisSessions(url=redis_cluster_url, buckets=128) as first:
        token = first.create(app=APP, id="u1", ip="10.0.0.1")["token"]
    with RedisSessions(url=redis_cluster_url) as later:
        assert later.get(app=APP, token=token) is not None
        assert isinstance(later.keys, ClusterKeys) and later.keys.bucket_count == 128
    with (
        RedisSessions(url=redis_cluster_url, buckets=64) as other,
        pytest.raises(ValueError, match="use 128 buckets"),
    ):
        other.ping()


def test_a_given_cluster_client_is_used(redis_cluster_url: str) -> None:
    client = RedisCluster.from_url(redis_cluster_url, decode_responses=True)
    with RedisSessions(client=client) as store:
        token = store.create(app=APP, id="u1", ip="10.0.0.1")["token"]
        assert store.get(app=APP, token=token) is not None
        assert isinstance(store.keys, ClusterKeys)
    client.close()


def test_a_given_async_cluster_client_is_used(redis_cluster_url: str) -> None:
    async def main() -> dict[str, Any] | None:
        client = redis.asyncio.cluster.RedisCluster.from_url(
            redis_cluster_url, decode_responses=True
        )
        async with AsyncRedisSessions(client=client) as store:
            token = (await store.create(app=APP, id="u1", ip="10.0.0.1"))["token"]
            found = await store.get(app=APP, token=token)
            assert isinstance(store.keys, ClusterKeys)
        return found  # type: ignore[return-value]

    assert asyncio.run(main()) is not None


def test_the_wipe_and_discovery_on_a_cluster(rs: RedisSessions, redis_cluster_url: str) -> None:
    tokens = [rs.create(app=APP, id=f"u{i}", ip="10.0.0.1", ttl=10)["token"] for i in range(30)]
    rs.create(app="other", id="u1", ip="10.0.0.1")
    rs.backdate_many(
        app=APP, sessions=[{"token": t, "id": f"u{i}", "idle": 60} for i, t in enumerate(tokens)]
    )
    report = rs.wipe_pass(batch=5)
    assert report["removed"] == 30 and report["per_app"] == {APP: 30}
    assert report["remaining"] == 1
    # Registered lately (a process may be creating there without registering again): kept.
    assert rs.discover_apps() == ["other", APP]
    with RedisCluster.from_url(redis_cluster_url, decode_responses=True) as raw:
        raw.hset("rs:_apps", APP, 0)  # registered long ago
    assert rs.discover_apps() == ["other"]
    assert rs.apps() == ["other"]


def test_an_app_emptied_and_created_in_again_stays_registered(redis_cluster_url: str) -> None:
    # The wipe loop's discovery runs between a killall and a process's next create, whose
    # registration it remembers for a minute: the app must stay visible to the wipe.
    with (
        RedisSessions(url=redis_cluster_url) as server,
        RedisSessions(url=redis_cluster_url) as loop,
    ):
        server.create(app=APP, id="u1", ip="10.0.0.1", ttl=10)
        server.killall(app=APP)
        loop.discover_apps()
        token = server.create(app=APP, id="u2", ip="10.0.0.1", ttl=10)["token"]
        server.backdate_many(app=APP, sessions=[{"token": token, "id": "u2", "idle": 60}])
        assert loop.apps() == [APP]
        assert loop.wipe_pass()["removed"] == 1


def test_the_dashboard_on_a_cluster(
    redis_cluster_url: str, settings: Any, admin_client: Client
) -> None:
    settings.REDIS_URL = redis_cluster_url
    with RedisSessions(url=redis_cluster_url) as store:
        for i in range(20):
            store.create(app=APP, id=f"<script>u{i % 5}", ip="10.0.0.1")
    home = admin_client.get("/")
    assert home.status_code == 200 and APP in home.content.decode()
    assert "(cluster of 3 masters, summed)" in home.content.decode()  # the Redis panel
    page = admin_client.get(f"/apps/{APP}/")
    assert page.status_code == 200
    assert "&lt;script&gt;u1" in page.content.decode()
    assert admin_client.get("/users/", {"id": "<script>u1"}).status_code == 200
    export = admin_client.get(f"/apps/{APP}/export.csv")
    lines = b"".join(export.streaming_content).decode().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 + 20 and sum("<script>u1" in line for line in lines) == 4
    killed = admin_client.post(f"/apps/{APP}/kill/all/", {"confirm": APP})
    assert killed.status_code in {200, 302}
    with RedisSessions(url=redis_cluster_url) as store:
        assert store.activity(app=APP, delta_time=600) == {"activity": 0}


def test_the_wipe_loop_on_a_cluster(redis_cluster_url: str) -> None:
    with RedisSessions(url=redis_cluster_url) as store:
        tokens = [store.create(app=APP, id=f"u{i}", ip="1", ttl=10)["token"] for i in range(12)]
        store.backdate_many(
            app=APP,
            sessions=[{"token": t, "id": f"u{i}", "idle": 60} for i, t in enumerate(tokens)],
        )
    wiper = Wiper(redis_cluster_url, "--interval", "1")
    try:
        wiper.wait_for("Removed 12 timed-out sessions")
        assert wiper.stop() == 0
    finally:
        wiper.kill()


def test_batched_kills_send_one_cache_message_per_batch_and_caches_drop_them(
    redis_cluster_url: str,
) -> None:
    # On a cluster every PUBLISH is relayed to every node: killall and the wipe send one
    # message per batch, space-separated, which the listeners of every instance split.
    with (
        RedisSessions(url=redis_cluster_url, cachetime=60) as cached,
        RedisSessions(url=redis_cluster_url) as killer,
        redis.Redis.from_url(redis_cluster_url, decode_responses=True) as raw,
        raw.pubsub() as channel,
    ):
        channel.subscribe("rs:cache")
        assert channel.get_message(timeout=5)["type"] == "subscribe"
        made = killer.create_many(app=APP, sessions=[{"id": "u1", "ip": "1"}] * 30)
        tokens = [t["token"] for t in made]
        assert all(cached.get(app=APP, token=t) for t in tokens)
        assert cached.cache is not None and len(cached.cache) == 30
        assert killer.killsoid(app=APP, id="u1") == {"kill": 30}
        message = channel.get_message(timeout=5)
        assert message is not None
        assert sorted(str(message["data"]).split(" ")) == sorted(f"{APP}:{t}" for t in tokens)
        wait_until(lambda: len(cached.cache) == 0, 5, "the cache to drop the killed sessions")  # type: ignore[arg-type]
        assert all(cached.get(app=APP, token=t) is None for t in tokens)


def move_slot(cluster: RedisClusterServers, slot: int, source: int, target: int) -> None:
    """Migrate one slot and its keys from master `source` to master `target` (ports), as
    `redis-cli --cluster reshard` does, telling every master the new owner."""
    with redis.Redis(port=source) as src, redis.Redis(port=target) as dst:
        dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", cluster.node_id(source))
        src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", cluster.node_id(target))
        while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
            src.execute_command("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
        for port in (target, source):
            with redis.Redis(port=port) as node:
                node.execute_command("CLUSTER", "SETSLOT", slot, "NODE", cluster.node_id(target))


def test_a_slot_moved_under_the_library_is_followed(
    redis_cluster: RedisClusterServers, rs: RedisSessions
) -> None:
    token = rs.create(app=APP, id="mover", ip="10.0.0.1")["token"]
    slot = key_slot(rs.keys.of_token(APP, token).session(token).encode())
    source = redis_cluster.master_for_slot(slot)
    target = next(m.port for m in redis_cluster.masters() if m.port != source)
    move_slot(redis_cluster, slot, source, target)
    try:
        # The library's slot map still names the old owner: MOVED, a refresh, sent again.
        found = rs.get(app=APP, token=token)
        assert found is not None and found["id"] == "mover"
        assert len(rs.soid(app=APP, id="mover")["sessions"]) == 1
        assert rs.kill(app=APP, token=token) == {"kill": 1}
    finally:
        move_slot(redis_cluster, slot, target, source)
        redis_cluster.wait_until_healthy()


def test_a_buckets_expiry_index_of_another_type_is_reported_and_the_other_buckets_wiped(
    rs: RedisSessions, redis_cluster_url: str
) -> None:
    new = [{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(200)]
    made = [t["token"] for t in rs.create_many(app=APP, sessions=new)]  # type: ignore[arg-type]
    aged: list[Backdate] = [{"token": t, "id": f"u{i}", "idle": 9000} for i, t in enumerate(made)]
    rs.backdate_many(app=APP, sessions=aged)  # every session has timed out (ttl 7200)
    bucket = rs.keys.of_token(APP, made[0])
    kept = [t for t in made if rs.keys.of_token(APP, t) == bucket]
    with RedisCluster.from_url(redis_cluster_url, decode_responses=True) as raw:
        raw.delete(bucket.expiry)
        raw.set(bucket.expiry, "another program's")

    report = rs.wipe_pass()

    assert report["foreign_keys"] == [bucket.expiry]
    assert report["removed"] == len(made) - len(kept) > 0
    with RedisCluster.from_url(redis_cluster_url, decode_responses=True) as raw:
        assert raw.exists(bucket.session(kept[0])) == 1  # its bucket was not wiped
        assert raw.get(bucket.expiry) == "another program's"


def test_a_registry_of_another_type_is_reported_and_nothing_breaks(
    redis_cluster_url: str, settings: Any, admin_client: Client
) -> None:
    settings.REDIS_URL = redis_cluster_url
    with RedisCluster.from_url(redis_cluster_url, decode_responses=True) as raw:
        raw.sadd("rs:_apps", APP)  # another program's set where the registry hash would be
    with RedisSessions(url=redis_cluster_url) as store:
        token = store.create(app=APP, id="u1", ip="10.0.0.1")["token"]
        assert store.get(app=APP, token=token) is not None
        assert store.apps() == []
        report = store.wipe_pass()
        assert report["foreign_keys"] == ["rs:_apps"] and report["removed"] == 0
        assert store.discover_apps() == []
    assert admin_client.get("/").status_code == 200
