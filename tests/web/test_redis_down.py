"""Redis unreachable: every page answers 503 with a banner, never a traceback, and recovers."""

from __future__ import annotations

import pytest
from django.test import Client

from dashboard.models import KillAudit
from project.redis_server import RedisServer, free_port
from sessions_core import RedisSessions
from tests.web.conftest import htmx

STORE_PAGES = ["/", "/apps/shop/", "/apps/shop/user/?id=u1"]
FRAGMENTS = [("/", "apps-table"), ("/apps/shop/", "live"), ("/apps/shop/", "sessions")]
KILLS = [
    ("/apps/shop/kill/session/", {"id": "u1", "handle": "abc123"}),
    ("/apps/shop/kill/user/", {"id": "u1", "confirm": "yes"}),
    ("/apps/shop/kill/all/", {"confirm": "shop"}),
]


@pytest.fixture
def redis_down(redis_settings: object) -> None:
    """Point the dashboard at a port nothing listens on."""
    redis_settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # type: ignore[attr-defined]


@pytest.mark.parametrize("url", STORE_PAGES)
def test_pages_answer_503_with_a_banner_that_retries(
    killer: Client, redis_down: None, url: str
) -> None:
    response = killer.get(url)
    html = response.content.decode()
    assert response.status_code == 503
    assert "Redis is unreachable." in html
    assert 'data-testid="unavailable-banner" hidden' not in html
    assert '<meta http-equiv="refresh" content="5">' in html
    assert response["Retry-After"] == "5"
    assert "Traceback" not in html


@pytest.mark.parametrize(("url", "target"), FRAGMENTS)
def test_fragments_answer_503_with_the_banner_swapped_in_place(
    killer: Client, redis_down: None, url: str, target: str
) -> None:
    response = killer.get(url, headers=htmx(target))
    html = response.content.decode()
    assert response.status_code == 503
    assert response["HX-Retarget"] == "#unavailable"
    assert response["HX-Reswap"] == "outerHTML"
    assert html.lstrip().startswith('<div id="unavailable"')
    assert "Redis is unreachable." in html


@pytest.mark.parametrize(("url", "form"), KILLS)
def test_kills_answer_503_and_record_nothing(
    killer: Client, redis_down: None, url: str, form: dict[str, str]
) -> None:
    assert killer.post(url, form).status_code == 503
    assert killer.post(url, form, headers=htmx("sessions")).status_code == 503
    assert not KillAudit.objects.exists()


def test_healthz_answers_503_without_details(client: Client, redis_down: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "redis": {"ok": False}}


def test_the_audit_log_needs_no_redis(killer: Client, redis_down: None) -> None:
    assert killer.get("/audit/").status_code == 200


def test_pages_recover_by_themselves_when_redis_comes_back(
    killer: Client, store: RedisSessions, redis_server: RedisServer
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    assert killer.get("/apps/shop/").status_code == 200
    redis_server.stop()
    try:
        assert killer.get("/apps/shop/").status_code == 503
        assert killer.get("/healthz").status_code == 503
    finally:
        redis_server.start()
    store.create(app="shop", id="u1", ip="10.0.0.1")  # the test server restarts empty
    # The same store and connection pool, no restart of the dashboard.
    response = killer.get("/apps/shop/", headers=htmx("live"))
    assert response.status_code == 200
    assert 'id="unavailable" class="banner" role="alert" data-testid="unavailable-banner" ' in (
        response.content.decode()
    )
    assert 'hx-swap-oob="true" hidden' in response.content.decode()
    assert killer.get("/healthz").status_code == 200
