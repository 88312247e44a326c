"""A cluster master killed (SIGKILL) under the library, the dashboard and the wipe loop: only
StoreUnavailable (503 on the dashboard) meanwhile, everything answers again within 15 s by
itself, and sessions the replicas acknowledged (WAIT) before the kill are still there."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
import redis
from django.test import Client

from project.redis_cluster import RedisClusterServers
from sessions_core import RedisSessions, StoreUnavailable
from tests.commands.test_wipe_service import Wiper
from tests.stores import KINDS, open_store

from .helpers import RECOVERY, page_statuses_until_it_answers, until_it_answers

APP = "shop"


def replicated(cluster: RedisClusterServers) -> None:
    """Wait until every master's replica acknowledged every write so far (WAIT 1)."""
    for master in cluster.masters():
        with redis.Redis(port=master.port) as client:
            assert client.wait(1, 5000) == 1


def a_master_but_the_url_node(cluster: RedisClusterServers, url: str) -> int:
    """A master other than the node the URL names (a new client must still find the cluster)."""
    return next(m.port for m in cluster.masters() if f":{m.port}/" not in url)


@pytest.mark.parametrize("kind", KINDS)
def test_a_master_killed_under_load_fails_over_and_loses_no_acknowledged_session(
    redis_cluster: RedisClusterServers, redis_cluster_url: str, kind: str
) -> None:
    stores = open_store(kind, redis_cluster_url, socket_timeout=1.0, read_retries=0)
    rs = next(stores)
    new = [{"id": f"user{i}", "ip": "10.0.0.1"} for i in range(300)]
    tokens = [t["token"] for t in rs.create_many(app=APP, sessions=new)]  # type: ignore[arg-type]
    replicated(redis_cluster)

    # Load: gets of every session, round and round, until the kill is over.
    seen: Counter[str] = Counter()
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            for token in tokens[::10]:
                try:
                    rs.get(app=APP, token=token)
                    seen["ok"] += 1
                except Exception as error:  # every kind is counted and checked below
                    seen[type(error).__name__] += 1

    worker = threading.Thread(target=load)
    worker.start()
    killed = redis_cluster.kill_master(a_master_but_the_url_node(redis_cluster, redis_cluster_url))
    try:
        sessions, errors = until_it_answers(lambda: rs.get_many(app=APP, tokens=tokens))
        assert all(s is not None and s["id"] == f"user{i}" for i, s in enumerate(sessions))
        assert all(isinstance(e, StoreUnavailable) for e in errors), errors
        assert errors, "the killed master's slots were unreachable for a while"
        assert rs.create(app=APP, id="after", ip="10.0.0.1")["token"]
    finally:
        stop.set()
        worker.join()
    assert set(seen) <= {"ok", "StoreUnavailable"}, seen
    redis_cluster.wait_for_failover(killed)
    next(stores, None)  # closes the store


def test_the_dashboard_answers_503_during_a_cluster_failover_and_recovers(
    redis_cluster: RedisClusterServers,
    redis_cluster_url: str,
    settings: Any,
    admin_client: Client,
) -> None:
    settings.REDIS_URL = redis_cluster_url
    with RedisSessions(url=redis_cluster_url) as store:
        store.create_many(app=APP, sessions=[{"id": f"u{i}", "ip": "1"} for i in range(100)])
    replicated(redis_cluster)
    assert admin_client.get(f"/apps/{APP}/").status_code == 200
    killed = redis_cluster.kill_master(a_master_but_the_url_node(redis_cluster, redis_cluster_url))
    statuses = page_statuses_until_it_answers(admin_client, f"/apps/{APP}/")
    assert set(statuses) <= {200, 503}, statuses  # never a 500
    assert 503 in statuses
    # The apps page too, whose Redis panel asks every master: the slot map was refreshed.
    assert set(page_statuses_until_it_answers(admin_client, "/")) <= {200, 503}
    redis_cluster.wait_for_failover(killed)


def test_the_wipe_loop_carries_on_across_a_cluster_failover(
    redis_cluster: RedisClusterServers, redis_cluster_url: str
) -> None:
    with RedisSessions(url=redis_cluster_url) as store:
        store.create_many(app=APP, sessions=[{"id": f"u{i}", "ip": "1"} for i in range(100)])
    wiper = Wiper(redis_cluster_url, "--interval", "1")
    try:
        wiper.wait_for("Removed 0 timed-out sessions")
        killed = redis_cluster.kill_master(
            a_master_but_the_url_node(redis_cluster, redis_cluster_url)
        )
        wiper.wait_for("Redis is unreachable", timeout=RECOVERY)
        wiper.wait_for("Redis is reachable again", timeout=RECOVERY + 10)
        wiper.wait_for("Removed 0 timed-out sessions", timeout=RECOVERY)
        assert wiper.stop() == 0
    finally:
        wiper.kill()
    redis_cluster.wait_for_failover(killed)
