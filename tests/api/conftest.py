"""Fixtures for the REST API: the ASGI app in process on the test Redis, keys in the test
database, and a synchronous client.

The app runs in an event loop of the test's own (one per test) through httpx's ASGITransport,
with its real parts: the library on the private Redis the suite starts, the key cache, and the
database thread. Keys are committed rows (`transactional_db`), since that thread has a
connection of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from api.app import ApiApp
from api.models import ApiKey, key_digest, new_key

Json = Any


class Api:
    """A sync client of an `ApiApp` in process; `key` is sent as the bearer unless
    `key=None` (or another value) is passed to a call."""

    def __init__(self, app: ApiApp, key: str | None = None) -> None:
        self.app = app
        self.key = key
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api.test"
        )

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def request(
        self, method: str, path: str, *, key: str | bool | None = True, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        bearer = self.key if key is True else key
        if isinstance(bearer, str):
            headers["Authorization"] = f"Bearer {bearer}"
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return self.run(self.client.request(method, url, headers=headers, **kwargs))  # type: ignore[no-any-return]

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def create(self, app: str, id: str, *, ip: str = "10.0.0.1", **kwargs: Any) -> str:
        """A new session's token (asserting success)."""
        response = self.put(f"{app}/create/{enc(id)}", params={"ip": ip}, **kwargs)
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self.app.aclose())
        self.loop.close()


def enc(text: str) -> str:
    """A path segment, percent-encoded as a client must (`/` included)."""
    return quote(text, safe="")


@pytest.fixture
def make_key(transactional_db: None) -> Callable[..., str]:
    """Store a key (committed) and return it in clear."""

    def make(
        name: str = "tester",
        *,
        apps: str = "shop,blog",
        all_apps: bool = False,
        read_only: bool = False,
        is_active: bool = True,
    ) -> str:
        key = new_key()
        ApiKey.objects.create(
            name=name,
            key_hash=key_digest(key),
            apps=apps,
            all_apps=all_apps,
            read_only=read_only,
            is_active=is_active,
        )
        return key

    return make


@pytest.fixture
def make_api(redis_url: str, settings: Any) -> Iterator[Callable[..., Api]]:
    """Build an in-process API on the test Redis; every one built is closed at the end."""
    built: list[Api] = []

    def make(key: str | None = None, **options: Any) -> Api:
        api = Api(ApiApp(redis_url=redis_url, namespace="rs", **options), key)
        built.append(api)
        return api

    yield make
    for api in built:
        api.close()


@pytest.fixture
def writer_key(make_key: Callable[..., str]) -> str:
    return make_key("writer", apps="shop,blog")


@pytest.fixture
def api(make_api: Callable[..., Api], writer_key: str) -> Api:
    """The API with a read-write key for the apps `shop` and `blog`."""
    return make_api(writer_key)
