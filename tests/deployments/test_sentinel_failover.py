"""The library, the dashboard and the wipe loop on Sentinel (`redis+sentinel://` URLs), across
a failover: sessions acknowledged by the replica before the primary died survive, only
StoreUnavailable is raised meanwhile, and everything recovers by itself within 15 s."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.test import Client

from project.redis_sentinel import SentinelServers
from sessions_core import RedisSessions, StoreUnavailable
from tests.commands.test_wipe_service import Wiper
from tests.core.conftest import APP
from tests.stores import KINDS, open_store

from .helpers import RECOVERY, page_statuses_until_it_answers, until_it_answers


def replicated(sentinel: SentinelServers) -> None:
    """Wait until the replica acknowledged every write so far (WAIT 1)."""
    primary = redis.Redis.from_url(sentinel.primary_url)
    assert primary.wait(1, 5000) == 1
    primary.close()


@pytest.mark.parametrize("kind", KINDS)
def test_sessions_acknowledged_before_the_primary_died_survive_the_failover(
    redis_sentinel: SentinelServers, redis_sentinel_url: str, kind: str
) -> None:
    stores = open_store(kind, redis_sentinel_url, socket_timeout=1.0, read_retries=0)
    rs = next(stores)
    sessions_in = [{"id": "u", "ip": "1"}] * 50
    tokens = [t["token"] for t in rs.create_many(app=APP, sessions=sessions_in)]  # type: ignore[arg-type]
    replicated(redis_sentinel)
    redis_sentinel.kill_primary()
    sessions, errors = until_it_answers(lambda: rs.get_many(app=APP, tokens=tokens))
    assert all(s is not None and s["id"] == "u" for s in sessions)
    assert all(isinstance(e, StoreUnavailable) for e in errors), errors
    assert rs.create(app=APP, id="after", ip="1")["token"]
    redis_sentinel.wait_for_failover()
    next(stores, None)  # closes the store


def test_the_dashboard_answers_503_during_a_failover_and_recovers_by_itself(
    redis_sentinel: SentinelServers,
    redis_sentinel_url: str,
    settings: Any,
    admin_client: Client,
) -> None:
    settings.REDIS_URL = redis_sentinel_url
    store = RedisSessions(url=redis_sentinel_url)
    store.create(app="shop", id="u1", ip="1")
    store.close()
    replicated(redis_sentinel)
    assert admin_client.get("/apps/shop/").status_code == 200
    redis_sentinel.kill_primary()
    statuses = page_statuses_until_it_answers(admin_client, "/apps/shop/")
    assert set(statuses) <= {200, 503}, statuses  # never a 500
    redis_sentinel.wait_for_failover()


def test_the_wipe_loop_carries_on_across_a_failover(
    redis_sentinel: SentinelServers, redis_sentinel_url: str
) -> None:
    wiper = Wiper(redis_sentinel_url, "--interval", "1")
    try:
        wiper.wait_for("Removed 0 timed-out sessions")
        redis_sentinel.kill_primary()
        wiper.wait_for("Redis is unreachable", timeout=RECOVERY)
        wiper.wait_for("Redis is reachable again", timeout=RECOVERY + 10)
        wiper.wait_for("Removed 0 timed-out sessions", timeout=RECOVERY)
        assert wiper.stop() == 0
    finally:
        wiper.kill()
    redis_sentinel.wait_for_failover()
