"""Bearer keys: 401 without a valid one, 403 outside its scope or for a read-only key on a
write route; checks cached, so a revoked key stops within the cache time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from api.keys import Grant
from api.models import ApiKey, key_digest

from .conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "a" * 64
# (method, path, write)
ROUTES = [
    ("PUT", "{app}/create/u1?ip=1.2.3.4", True),
    ("GET", f"{{app}}/get/{TOKEN}", False),
    ("POST", f"{{app}}/set/{TOKEN}", True),
    ("GET", "{app}/activity?dt=600", False),
    ("GET", "{app}/soapp?dt=600", False),
    ("GET", "{app}/soid/u1", False),
    ("DELETE", f"{{app}}/kill/{TOKEN}", True),
    ("DELETE", "{app}/killsoid/u1", True),
    ("DELETE", "{app}/killall", True),
]
ROUTE_IDS = [path.split("/")[1].split("?")[0] for _, path, _ in ROUTES]


def count_lookups(api: Api) -> list[str]:
    """The digests the API looks up in the database from now on."""
    lookups: list[str] = []
    find = api.app.keys._find

    def counted(digest: str) -> Grant | None:
        lookups.append(digest)
        return find(digest)

    api.app.keys._find = counted
    return lookups


def body_for(method: str) -> dict[str, Any]:
    return {"json": {"a": 1}} if method in {"PUT", "POST"} else {}


@pytest.mark.parametrize(("method", "path", "write"), ROUTES, ids=ROUTE_IDS)
def test_every_route_but_ping_needs_a_key(api: Api, method: str, path: str, write: bool) -> None:
    response = api.request(method, path.format(app="shop"), key=None, **body_for(method))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="redis-sessions"'
    assert response.json() == {
        "name": "unauthorized",
        "message": "An API key is needed: Authorization: Bearer <key>",
    }


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer rsk_" + "x" * 43,  # well-formed, unknown
        "Bearer nope",
        "Bearer ",
        "Basic dXNlcjpwdw==",
        "rsk_" + "x" * 43,
        "Bearer rsk_" + "é" * 43,
    ],
)
def test_a_wrong_key_is_401_invalid_token(api: Api, authorization: str) -> None:
    response = api.get(
        "shop/soid/u1", key=None, headers={"Authorization": authorization.encode("utf-8")}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="redis-sessions", error="invalid_token"'
    )
    assert response.json()["message"] == "The API key is not valid"


def test_the_scheme_is_case_insensitive(api: Api, writer_key: str) -> None:
    response = api.get("shop/soid/u1", key=None, headers={"Authorization": f"bearer {writer_key}"})

    assert response.status_code == 200


@pytest.mark.parametrize(("method", "path", "write"), ROUTES, ids=ROUTE_IDS)
def test_a_key_works_on_its_apps_only(api: Api, method: str, path: str, write: bool) -> None:
    mine = api.request(method, path.format(app="blog"), **body_for(method))
    other = api.request(method, path.format(app="forum"), **body_for(method))

    assert mine.status_code != 403
    assert mine.status_code in {200, 400}  # a made-up token: set says "{}", nothing else fails
    assert other.status_code == 403
    assert other.json() == {"name": "forbidden", "message": "This API key may not use this app"}


@pytest.mark.parametrize(("method", "path", "write"), ROUTES, ids=ROUTE_IDS)
def test_a_read_only_key_is_refused_write_routes_only(
    make_api: Callable[..., Api],
    make_key: Callable[..., str],
    method: str,
    path: str,
    write: bool,
) -> None:
    api = make_api(make_key("reader", all_apps=True, read_only=True))

    response = api.request(method, path.format(app="anyapp"), **body_for(method))

    if write:
        assert response.status_code == 403
        assert response.json() == {"name": "forbidden", "message": "This API key is read-only"}
    else:
        assert response.status_code == 200


def test_an_all_apps_key_works_on_any_app(
    make_api: Callable[..., Api], make_key: Callable[..., str]
) -> None:
    api = make_api(make_key("admin-bot", all_apps=True))

    for app in ("shop", "forum", "x-y_z"):
        token = api.create(app, "u1")
        assert api.get(f"{app}/get/{token}").json()["id"] == "u1"


def test_an_inactive_key_is_401(make_api: Callable[..., Api], make_key: Callable[..., str]) -> None:
    api = make_api(make_key("old", all_apps=True, is_active=False))

    assert api.get("shop/soid/u1").status_code == 401


def test_a_revoked_key_works_until_its_check_leaves_the_cache(
    make_api: Callable[..., Api], make_key: Callable[..., str]
) -> None:
    key = make_key("soon-gone", all_apps=True)
    api = make_api(key, key_cache_seconds=0.5)
    assert api.get("shop/soid/u1").status_code == 200

    ApiKey.objects.filter(name="soon-gone").update(is_active=False)

    assert api.get("shop/soid/u1").status_code == 200  # cached
    time.sleep(0.6)
    assert api.get("shop/soid/u1").status_code == 401


def test_without_the_cache_a_revoked_key_stops_at_once(
    make_api: Callable[..., Api], make_key: Callable[..., str]
) -> None:
    key = make_key("uncached", all_apps=True)
    api = make_api(key, key_cache_seconds=0)
    assert api.get("shop/soid/u1").status_code == 200

    ApiKey.objects.filter(name="uncached").delete()

    assert api.get("shop/soid/u1").status_code == 401


def test_cached_requests_do_not_query_the_database(
    make_api: Callable[..., Api], make_key: Callable[..., str]
) -> None:
    key = make_key("counted", all_apps=True)
    api = make_api(key)
    lookups = count_lookups(api)

    for _ in range(20):
        assert api.get("shop/soid/u1").status_code == 200

    assert lookups == [key_digest(key)]


def test_concurrent_first_requests_share_one_lookup(
    make_api: Callable[..., Api], make_key: Callable[..., str]
) -> None:
    import asyncio

    key = make_key("burst", all_apps=True)
    api = make_api(key)
    lookups = count_lookups(api)

    async def burst() -> list[int]:
        headers = {"Authorization": f"Bearer {key}"}
        responses = await asyncio.gather(
            *(api.client.get("/api/v1/shop/soid/u1", headers=headers) for _ in range(10))
        )
        return [r.status_code for r in responses]

    assert api.run(burst()) == [200] * 10
    assert len(lookups) == 1


def test_last_used_is_recorded_at_most_once_a_minute(
    make_api: Callable[..., Api], make_key: Callable[..., str]
) -> None:
    key = make_key("tracked", all_apps=True)
    assert ApiKey.objects.get(name="tracked").last_used is None

    make_api(key, key_cache_seconds=0).get("shop/soid/u1")
    first = ApiKey.objects.get(name="tracked").last_used
    assert first is not None and timezone.now() - first < timedelta(seconds=5)

    make_api(key, key_cache_seconds=0).get("shop/soid/u1")
    assert ApiKey.objects.get(name="tracked").last_used == first

    an_hour_ago = timezone.now() - timedelta(hours=1)
    ApiKey.objects.filter(name="tracked").update(last_used=an_hour_ago)
    make_api(key, key_cache_seconds=0).get("shop/soid/u1")
    assert ApiKey.objects.get(name="tracked").last_used > an_hour_ago  # type: ignore[operator]


def test_the_key_database_down_is_503_not_500(
    make_api: Callable[..., Api], make_key: Callable[..., str]
) -> None:
    from django.db import OperationalError

    key = make_key("nodb", all_apps=True)
    api = make_api(key)

    def broken(digest: str) -> None:
        raise OperationalError("database is locked")

    api.app.keys._find = broken

    response = api.get("shop/soid/u1")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["name"] == "unavailable"
