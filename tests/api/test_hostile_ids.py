"""Ids in paths are percent-encoded and may hold anything but line breaks: `/`, `:`, spaces,
percent signs, markup, emoji, right-to-left marks. Each one round-trips exactly."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest
import redis

from sessions_core import RedisSessions

from .conftest import Api, enc

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_IDS = [
    "<script>alert(1)</script>",
    "a/b",
    "/",
    "//double//",
    "../../etc/passwd",
    "user:42:admin",
    ":",
    "with space",
    " leading and trailing ",
    "100%",
    "%2F",
    "%",
    "a+b",
    "?query=1&x=2",
    "#fragment",
    "😀",
    "👩‍👩‍👧 family",
    "\u202eevil\u202c",
    "日本語のユーザー",
    "nul\x00byte",
    "tab\there",
    '"quoted" \\ back',
    "x" * 128,
]


@pytest.mark.parametrize("user_id", HOSTILE_IDS)
def test_a_hostile_id_round_trips_through_every_id_route(
    api: Api, rs: RedisSessions, user_id: str
) -> None:
    token = api.create("shop", user_id, json={"k": user_id})

    assert api.get(f"shop/get/{token}").json()["id"] == user_id
    assert rs.get(app="shop", token=token)["id"] == user_id  # type: ignore[index]
    (listed,) = api.get(f"shop/soid/{enc(user_id)}").json()["sessions"]
    assert (listed["id"], listed["d"]) == (user_id, {"k": user_id})
    assert api.delete(f"shop/killsoid/{enc(user_id)}").json() == {"kill": 1}
    assert api.get(f"shop/get/{token}").json() == {}


def test_an_unencoded_slash_in_an_id_is_taken_as_part_of_it(api: Api) -> None:
    api.create("shop", "a/b/c")

    (listed,) = api.get("shop/soid/a/b/c").json()["sessions"]

    assert listed["id"] == "a/b/c"


def test_ids_that_differ_only_in_encoding_are_different_ids(api: Api) -> None:
    api.create("shop", "a b")
    api.create("shop", "a+b")
    api.create("shop", "a%20b")

    assert [s["id"] for s in api.get("shop/soid/a%20b").json()["sessions"]] == ["a b"]
    assert [s["id"] for s in api.get("shop/soid/a+b").json()["sessions"]] == ["a+b"]
    assert [s["id"] for s in api.get("shop/soid/a%2520b").json()["sessions"]] == ["a%20b"]


def test_an_id_of_invalid_utf8_cannot_be_created_but_a_foreign_one_is_found_and_killed(
    api: Api, redis_url: str
) -> None:
    refused = api.put("shop/create/%FF%FE", params={"ip": "1.2.3.4"})
    assert refused.status_code == 400
    assert refused.json() == {"name": "invalidFormat", "message": "Invalid id format"}

    # Another program stored an id as bytes that are not UTF-8.
    raw = redis.Redis.from_url(redis_url)
    token = api.create("shop", "placeholder")
    raw.hset(f"rs:shop:{token}", "id", b"\xff\xfe")
    raw.zrem("rs:shop:_sessions", f"{token}:placeholder")
    raw.zadd("rs:shop:_sessions", {f"{token}:".encode() + b"\xff\xfe": 1})
    raw.sadd(b"rs:shop:us:\xff\xfe", token)

    listed = api.get("shop/soid/%FF%FE")
    assert listed.status_code == 200
    assert listed.json()["sessions"][0]["id"] == "\udcff\udcfe"  # JSON \\u escapes, parsed
    assert api.delete("shop/killsoid/%FF%FE").json() == {"kill": 1}
    raw.close()


@pytest.mark.parametrize("body", [{"<b>": "<script>"}, {"k": "\u202e"}, {"😀": "😀"}])
def test_hostile_d_keys_and_values_round_trip(api: Api, body: dict[str, str]) -> None:
    token = api.create("shop", "u1", json=body)

    assert api.get(f"shop/get/{token}").json()["d"] == body


def test_a_server_without_raw_path_gets_the_same_ids(api: Api, writer_key: str) -> None:
    """ASGI makes raw_path optional: the decoded path is then encoded again, not decoded twice."""
    api.create("shop", "100%41")
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/shop/soid/100%41",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {writer_key}".encode())],
    }
    api.run(api.app(scope, receive, send))

    assert sent[0]["status"] == 200
    body = sent[1]["body"]
    assert isinstance(body, bytes)
    assert b'"id":"100%41"' in body
