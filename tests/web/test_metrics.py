"""GET /metrics: Prometheus text with each app's counts and the last wipe pass, behind a
bearer token; absent without RS_METRICS_TOKEN."""

from __future__ import annotations

import pytest
import redis
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from project.redis_server import free_port
from sessions_core import RedisSessions

TOKEN = "scrape-secret-123"


@pytest.fixture
def scraper(settings: object, store: RedisSessions) -> Client:
    settings.RS_METRICS_TOKEN = TOKEN  # type: ignore[attr-defined]
    return Client(headers={"Authorization": f"Bearer {TOKEN}"})


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_without_a_token_setting_the_endpoint_does_not_exist(
    client: Client, store: RedisSessions
) -> None:
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_missing_or_wrong_token_is_401(scraper: Client, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = Client().get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in response.content.decode()


def test_a_scrape_reports_every_app_and_the_last_wipe(
    scraper: Client, store: RedisSessions, r: redis.Redis
) -> None:
    store.create_many(app="shop", sessions=[{"id": f"u{i % 3}", "ip": "1"} for i in range(5)])
    store.create(app="blog", id="<b>x</b>", ip="1")
    old = store.create(app="blog", id="gone", ip="1", ttl=10)["token"]
    r.zadd("rs:SESSIONS", {f"blog:{old}:gone": 1})
    store.wipe_pass()
    response = scraper.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    found = samples(response.content.decode())
    assert found[("rs_sessions", (("app", "shop"),))] == 5
    assert found[("rs_users", (("app", "shop"),))] == 3
    assert found[("rs_sessions", (("app", "blog"),))] == 1
    for window in ("1m", "10m", "1h", "24h"):
        assert found[("rs_active_users", (("app", "shop"), ("window", window)))] == 3
    assert found[("rs_wipe_last_removed", ())] == 1
    assert found[("rs_wipe_last_duration_seconds", ())] >= 0
    assert found[("rs_wipe_last_run_timestamp_seconds", ())] > 1.7e9


def test_an_app_hidden_by_another_programs_key_is_flagged_not_fatal(
    scraper: Client, store: RedisSessions, r: redis.Redis
) -> None:
    store.create(app="shop", id="u1", ip="1")
    store.create(app="blog", id="u2", ip="1")
    r.delete("rs:blog:_users")
    r.set("rs:blog:_users", "foreign")
    found = samples(scraper.get("/metrics").content.decode())
    assert found[("rs_app_unreadable", (("app", "blog"),))] == 1
    assert found[("rs_sessions", (("app", "shop"),))] == 1
    assert ("rs_sessions", (("app", "blog"),)) not in found


def test_redis_down_is_503_with_retry_after(settings: object, scraper: Client) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # type: ignore[attr-defined]
    response = scraper.get("/metrics")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
