"""Every error is JSON `{name, message}` with its status: the original's validation names and
messages (400), 404, 405, 413, 409 for foreign data, 503 when Redis is down; never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

from project.redis_server import RedisServer

from .conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "T" * 64
TTL_MESSAGE = "ttl must be a positive integer >= 10"
DT_MESSAGE = "deltaTime must be a positive integer >= 10"


def error(response: Any) -> tuple[int, str, str]:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"name", "message"}
    return response.status_code, body["name"], body["message"]


# (method, path, query, body) -> the original's error
VALIDATION = [
    ("PUT", "shop/create/u1", {"ip": "1.2.3.4", "ttl": "abc"}, None, "invalidValue", TTL_MESSAGE),
    ("PUT", "shop/create/u1", {"ip": "1.2.3.4", "ttl": "9"}, None, "invalidValue", TTL_MESSAGE),
    ("PUT", "shop/create/u1", {"ip": "1.2.3.4", "ttl": "0"}, None, "invalidValue", TTL_MESSAGE),
    ("PUT", "shop/create/u1", {"ip": "1.2.3.4", "ttl": "-600"}, None, "invalidValue", TTL_MESSAGE),
    ("PUT", "shop/create/u1", {"ip": "1.2.3.4", "ttl": "NaN"}, None, "invalidValue", TTL_MESSAGE),
    (
        "PUT",
        "shop/create/u1",
        {"ip": "1.2.3.4", "ttl": "9" * 40},
        None,
        "invalidValue",
        "ttl must be at most 315360000 (10 years)",
    ),
    ("PUT", "shop/create/u1", {}, None, "missingParameter", "No ip supplied"),
    ("PUT", "shop/create/u1", {"ip": ""}, None, "missingParameter", "No ip supplied"),
    ("PUT", "shop/create/u1", {"ip": "x" * 40}, None, "invalidFormat", "Invalid ip format"),
    ("PUT", "shop/create/u1", {"ip": "1.2.3.4"}, [1], "invalidValue", "d must be an object"),
    ("PUT", "shop/create/u1", {"ip": "1.2.3.4"}, "text", "invalidValue", "d must be an object"),
    (
        "PUT",
        "shop/create/u1",
        {"ip": "1.2.3.4"},
        {"a": [1]},
        "invalidValue",
        "d.a has a forbidden type. Only strings, numbers, boolean and null are allowed.",
    ),
    (
        "PUT",
        "shop/create/" + "x" * 129,
        {"ip": "1.2.3.4"},
        None,
        "invalidFormat",
        "Invalid id format",
    ),
    ("PUT", "shop/create/a%0Ab", {"ip": "1.2.3.4"}, None, "invalidFormat", "Invalid id format"),
    ("GET", "shop/get/short", {}, None, "invalidFormat", "Invalid token format"),
    ("GET", "shop/get/", {}, None, "missingParameter", "No token supplied"),
    ("GET", "shop/get/" + "a" * 63 + "-", {}, None, "invalidFormat", "Invalid token format"),
    ("POST", f"shop/set/{TOKEN}", {}, None, "missingParameter", "No d supplied"),
    ("POST", f"shop/set/{TOKEN}", {}, {}, "invalidValue", "d must containt at least one key."),
    ("POST", f"shop/set/{TOKEN}", {}, [1, 2], "invalidValue", "d must be an object"),
    ("POST", f"shop/set/{TOKEN}", {}, 5, "invalidValue", "d must be an object"),
    ("GET", "shop/activity", {}, None, "invalidValue", DT_MESSAGE),
    ("GET", "shop/activity", {"dt": "abc"}, None, "invalidValue", DT_MESSAGE),
    ("GET", "shop/activity", {"dt": ""}, None, "invalidValue", DT_MESSAGE),
    ("GET", "shop/soapp", {"dt": "5"}, None, "invalidValue", DT_MESSAGE),
    ("GET", "shop/soid/", {}, None, "missingParameter", "No id supplied"),
    ("DELETE", "shop/killsoid/", {}, None, "missingParameter", "No id supplied"),
    ("DELETE", "shop/kill/nope", {}, None, "invalidFormat", "Invalid token format"),
]


@pytest.mark.parametrize(("method", "path", "query", "body", "name", "message"), VALIDATION)
def test_bad_input_is_400_with_the_originals_name_and_message(
    api: Api, method: str, path: str, query: dict[str, str], body: Any, name: str, message: str
) -> None:
    kwargs: dict[str, Any] = {"params": query}
    if body is not None:
        kwargs["json"] = body
    response = api.request(method, path, **kwargs)

    assert error(response) == (400, name, message)


@pytest.mark.parametrize("app", ["ab", "a" * 21, "sh op", "shop!", "%C3%A9t%C3%A9", "a%2Fbc"])
def test_an_invalid_app_is_invalid_app_format_for_an_all_apps_key(
    make_api: Callable[..., Api], make_key: Callable[..., str], app: str
) -> None:
    api = make_api(make_key("everything", all_apps=True))

    response = api.get(f"{app}/soid/u1")

    assert error(response) == (400, "invalidFormat", "Invalid app format")


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"\xff\xfe\x00",
        b'{"a": "\xff"}',
        b"[" * 100_00 + b"]" * 100_00,
        b'{"a": 1} trailing',
    ],
    ids=["truncated", "nan", "infinity", "binary", "bad-utf8", "deep-nest", "trailing"],
)
def test_a_body_that_is_not_json_is_400(api: Api, body: bytes) -> None:
    for method, path in [("POST", f"shop/set/{TOKEN}"), ("PUT", "shop/create/u1?ip=1.2.3.4")]:
        response = api.request(method, path, content=body)

        assert error(response) == (400, "invalidFormat", "The body is not JSON")


def test_a_deep_nest_inside_an_object_is_refused_as_a_forbidden_type(api: Api) -> None:
    response = api.post(f"shop/set/{TOKEN}", content=b'{"a": ' + b"[" * 50 + b"]" * 50 + b"}")

    assert error(response)[:2] == (400, "invalidValue")


def test_a_body_over_60000_bytes_is_413_whether_announced_or_streamed(api: Api) -> None:
    big = b'{"a": "' + b"x" * 60_000 + b'"}'

    async def chunks() -> Any:
        yield big[:30_000]
        yield big[30_000:]

    announced = api.post(f"shop/set/{TOKEN}", content=big)
    streamed = api.post(f"shop/set/{TOKEN}", content=chunks())  # chunked: no Content-Length

    for response in (announced, streamed):
        assert error(response) == (413, "payloadTooLarge", "The body is over 60000 bytes")


def test_a_body_of_exactly_60000_bytes_is_read(api: Api) -> None:
    token = api.create("shop", "u1")
    body = b'{"a": "' + b"x" * (60_000 - 10) + b'"}'
    assert len(body) == 60_000 - 1

    response = api.post(f"shop/set/{token}", content=body + b" ")

    assert response.status_code == 200
    assert len(response.json()["d"]["a"]) == 59_990


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/",
        "/api/v1",
        "/api/v1/",
        "/api/v2/ping",
        "/api/v1/nope",
        "/api/v1/shop",
        "/api/v1/shop/",
        "/api/v1/shop/unknown/x",
        "/api/v1/shop/get",
        "/api/v1/shop/killall/",
        "/api/v1/shop/killall/extra",
        "/api/v1/shop/activity/x",
        "/api/v1/ping/",
        "/admin/",
    ],
)
def test_an_unknown_route_is_a_json_404(api: Api, path: str) -> None:
    response = api.get(path)

    assert error(response) == (404, "notFound", "No such route: see /api/v1/openapi.json")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "shop/create/u1", "PUT"),
        ("POST", f"shop/get/{TOKEN}", "GET"),
        ("PUT", f"shop/set/{TOKEN}", "POST"),
        ("DELETE", "shop/activity", "GET"),
        ("POST", "shop/soapp", "GET"),
        ("DELETE", "shop/soid/u1", "GET"),
        ("GET", f"shop/kill/{TOKEN}", "DELETE"),
        ("GET", "shop/killsoid/u1", "DELETE"),
        ("GET", "shop/killall", "DELETE"),
        ("POST", "ping", "GET"),
        ("HEAD", "openapi.json", "GET"),
        ("PATCH", "shop/killall", "DELETE"),
    ],
)
def test_a_wrong_method_is_405_with_allow(api: Api, method: str, path: str, allowed: str) -> None:
    response = api.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    if method != "HEAD":
        assert error(response) == (405, "methodNotAllowed", f"Use {allowed} here")


def test_redis_down_is_503_with_retry_after_and_recovers(
    api: Api, redis_server: RedisServer
) -> None:
    token = api.create("shop", "u1")
    redis_server.stop()
    try:
        answers = [
            api.get(f"shop/get/{token}"),
            api.put("shop/create/u2", params={"ip": "1.2.3.4"}),
            api.delete("shop/killall"),
            api.get("ping", key=None),
        ]
    finally:
        redis_server.start()

    for response in answers:
        assert error(response) == (503, "unavailable", "Redis is unreachable; try again")
        assert response.headers["retry-after"] == "5"
        assert token not in response.text
    assert api.get("ping", key=None).json() == "PONG"


def test_another_programs_data_is_409_corrupt_data_never_a_500(api: Api, r: redis.Redis) -> None:
    token = api.create("shop", "u1")
    r.hset(f"rs:shop:{token}", "r", "not a number")
    r.set("rs:shop:_sessions", "a string where a zset should be")

    got = api.get(f"shop/get/{token}")
    killed = api.delete("shop/killall")

    assert error(got)[:2] == (409, "corruptData")
    assert error(killed)[:2] == (409, "corruptData")
    assert token not in got.text + killed.text


def test_the_validation_error_bodies_never_hold_a_token(api: Api) -> None:
    token = api.create("shop", "u1")

    response = api.post(f"shop/set/{token}", json={"a": {"nested": 1}})

    assert response.status_code == 400
    assert token not in response.text
