"""Bad input: the original's error names and messages, and nothing written to Redis.

Table-driven: every argument of every operation meets every bad value of its kind, on a
store that holds one live session (so "nothing written" also means "nothing counted").
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis

from sessions_core import RedisSessions, ValidationError

from .conftest import APP
from .helpers import snapshot

MISSING = "missingParameter"
FORMAT = "invalidFormat"
VALUE = "invalidValue"
LIVE = object()  # stands for the token of the live session
FORBIDDEN = "has a forbidden type. Only strings, numbers, boolean and null are allowed."

Case = tuple[object, str, str]


def _missing_and_format(item: str, bad_formats: list[object]) -> list[Case]:
    return [
        (None, MISSING, f"No {item} supplied"),
        ("", MISSING, f"No {item} supplied"),
        *[(value, FORMAT, f"Invalid {item} format") for value in bad_formats],
    ]


def _seconds(message: str) -> list[Case]:
    bad: list[object] = [9, 0, -600, 600.0, 10.5, "600", True, False, [600], math.nan, math.inf]
    return [(value, VALUE, message) for value in bad]


def _d(with_none: bool) -> list[Case]:
    cases: list[Case] = [
        ({}, VALUE, "d must containt at least one key."),
        ([], VALUE, "d must be an object"),
        ([("a", 1)], VALUE, "d must be an object"),
        ("a=1", VALUE, "d must be an object"),
        (42, VALUE, "d must be an object"),
        ({1: "one"}, VALUE, "d must be an object"),
        ({"a": [1]}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": {"b": 1}}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": (1,)}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": b"bytes"}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": math.nan}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": math.inf}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": -math.inf}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": Decimal("1.5")}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": 1j}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": object()}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": {1, 2}}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": "lone \ud800 surrogate"}, VALUE, f"d.a {FORBIDDEN}"),
        ({"a": 10**5000}, VALUE, f"d.a {FORBIDDEN}"),  # too long to write as text
        ({"ok": 1, "fine": None, "bad": [2]}, VALUE, f"d.bad {FORBIDDEN}"),
    ]
    if with_none:
        cases.insert(0, (None, MISSING, "No d supplied"))
    return cases


CASES: dict[str, list[Case]] = {
    "app": _missing_and_format(
        "app",
        ["ab", "a" * 21, "my app", "my.app", "my:app", "myäpp", "app\n", 123, ["myapp"], b"myapp"],
    ),
    "token": _missing_and_format(
        "token",
        ["A" * 63, "A" * 65, "A" * 63 + "-", "A" * 63 + ":", "Ä" * 64, b"A" * 64, ["A" * 64], 7],
    ),
    "id": _missing_and_format(
        "id",
        ["a" * 129, "a\nb", "a\rb", "a\u2028b", "a\u2029b", "\ud800", 42, ["u1"], b"u1"],
    ),
    "ip": _missing_and_format("ip", ["1" * 40, "10.0.0.1\n", b"10.0.0.1", 10001, ["10.0.0.1"]]),
    "ttl": _seconds("ttl must be a positive integer >= 10"),
    "delta_time": [
        (None, VALUE, "deltaTime must be a positive integer >= 10"),
        *_seconds("deltaTime must be a positive integer >= 10"),
    ],
    "bucket": _seconds("deltaTime must be a positive integer >= 10"),
    "no_resave": [(v, VALUE, "no_resave must be a boolean") for v in ("yes", 1, 0, None)],
    "d": _d(with_none=True),
    "create.d": _d(with_none=False),
}

OPERATIONS: dict[str, dict[str, object]] = {
    "create": {
        "app": APP,
        "id": "u1",
        "ip": "10.0.0.1",
        "ttl": 3600,
        "d": {"a": 1},
        "no_resave": False,
    },
    "get": {"app": APP, "token": LIVE},
    "set": {"app": APP, "token": LIVE, "d": {"a": 1}},
    "kill": {"app": APP, "token": LIVE},
    "killsoid": {"app": APP, "id": "user1001"},
    "killall": {"app": APP},
    "activity": {"app": APP, "delta_time": 600},
    "soapp": {"app": APP, "delta_time": 600},
    "soid": {"app": APP, "id": "user1001"},
    "soapp_page": {"app": APP, "delta_time": 600},
    "user_sessions": {"app": APP, "id": "user1001"},
    "user_page": {"app": APP, "id": "user1001"},
    "kill_by_handle": {"app": APP, "id": "user1001", "handle": "0" * 24},
    "activity_histogram": {"app": APP, "bucket": 60},
}


def _table() -> Iterator[Any]:
    for op, base in OPERATIONS.items():
        for arg in base:
            key = f"{op}.{arg}" if f"{op}.{arg}" in CASES else arg
            for n, (value, name, message) in enumerate(CASES.get(key, [])):
                label = f"{op}-{arg}-{n}-{type(value).__name__}"
                yield pytest.param(op, arg, value, name, message, id=label)


def _call(rs: RedisSessions, live: str, op: str, **overrides: object) -> object:
    kwargs = {k: (live if v is LIVE else v) for k, v in OPERATIONS[op].items()}
    kwargs.update(overrides)
    return getattr(rs, op)(**kwargs)


def _assert_rejected(error: ValidationError, name: str, message: str) -> None:
    assert isinstance(error, ValueError)
    assert (error.name, error.message, str(error)) == (name, message, message)


@pytest.mark.parametrize(("op", "arg", "value", "name", "message"), list(_table()))
def test_bad_argument_raises_the_originals_error_and_writes_nothing(
    rs: RedisSessions,
    r: redis.Redis,
    token: str,
    op: str,
    arg: str,
    value: object,
    name: str,
    message: str,
) -> None:
    before = snapshot(r)
    with pytest.raises(ValidationError) as caught:
        _call(rs, token, op, **{arg: value})
    _assert_rejected(caught.value, name, message)
    assert snapshot(r) == before


def test_the_table_covers_every_argument_that_has_rules() -> None:
    covered = {(op, arg) for op, arg, *_ in (p.values for p in _table())}
    expected = {(op, arg) for op, base in OPERATIONS.items() for arg in base if arg != "handle"}
    assert covered == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"app": "", "id": "", "ip": ""}, "No app supplied"),
        ({"id": "a\nb", "ip": ""}, "Invalid id format"),
        ({"ip": "", "ttl": 1, "d": []}, "No ip supplied"),
        ({"ttl": 1, "d": []}, "ttl must be a positive integer >= 10"),
        ({"d": [], "no_resave": "x"}, "d must be an object"),
    ],
)
def test_create_reports_the_first_bad_argument_in_the_originals_order(
    rs: RedisSessions, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _call(rs, "", "create", **kwargs)


def test_set_reports_a_bad_token_before_a_bad_d(rs: RedisSessions) -> None:
    with pytest.raises(ValidationError, match="Invalid token format"):
        rs.set(app=APP, token="short", d={})


def test_create_accepts_the_boundaries_of_every_rule(rs: RedisSessions) -> None:
    token = rs.create(app="a_-", id="x" * 128, ip="f" * 39, ttl=10, d={"": ""})["token"]
    session = rs.get(app="a_-", token=token)
    assert session is not None
    assert (session["id"], session["ip"], session["ttl"], session.get("d")) == (
        "x" * 128,
        "f" * 39,
        10,
        {"": ""},
    )
    assert rs.create(app="A" * 20, id="x", ip="1")["token"]


def test_ids_may_hold_any_unicode_but_line_breaks(rs: RedisSessions) -> None:
    id = "ユーザー:42/ü\t😀 \"'\\ \x00"
    token = rs.create(app=APP, id=id, ip="::1")["token"]
    session = rs.get(app=APP, token=token)
    assert session is not None and session["id"] == id
    assert [s["id"] for s in rs.soid(app=APP, id=id)["sessions"]] == [id]


def test_create_many_validates_every_session_before_writing_any(
    rs: RedisSessions, r: redis.Redis
) -> None:
    sessions: Any = [{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(10)]
    sessions[7]["ttl"] = 5
    with pytest.raises(ValidationError, match="ttl must be a positive integer >= 10"):
        rs.create_many(app=APP, sessions=sessions)
    assert r.dbsize() == 0


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"ip": "10.0.0.1"}, "No id supplied"),
        ({"id": "u1"}, "No ip supplied"),
        ({"id": "u1", "ip": "10.0.0.1", "d": {"a": [1]}}, f"d.a {FORBIDDEN}"),
        ({"id": "u1", "ip": "10.0.0.1", "no_resave": "yes"}, "no_resave must be a boolean"),
    ],
)
def test_create_many_reports_the_originals_message_for_a_bad_entry(
    rs: RedisSessions, r: redis.Redis, entry: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        rs.create_many(app=APP, sessions=[{"id": "ok", "ip": "10.0.0.1"}, entry])
    assert caught.value.message == message
    assert r.dbsize() == 0


def test_create_many_checks_the_app_first(rs: RedisSessions, r: redis.Redis) -> None:
    with pytest.raises(ValidationError, match="Invalid app format"):
        rs.create_many(app="x", sessions=[{"id": "u1", "ip": "10.0.0.1"}])
    assert r.dbsize() == 0


@pytest.mark.parametrize("sessions", ["u1", b"u1", {"id": "u1", "ip": "10.0.0.1"}, ["u1"], [None]])
def test_create_many_rejects_what_is_not_a_list_of_session_dicts(
    rs: RedisSessions, r: redis.Redis, sessions: Any
) -> None:
    with pytest.raises(TypeError):
        rs.create_many(app=APP, sessions=sessions)
    assert r.dbsize() == 0


def test_get_many_validates_every_token_before_counting_any_read(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    before = snapshot(r)
    with pytest.raises(ValidationError, match="Invalid token format"):
        rs.get_many(app=APP, tokens=[token, "bad"])
    assert snapshot(r) == before


@pytest.mark.parametrize("tokens", ["A" * 64, b"A" * 64])
def test_get_many_rejects_a_single_string_for_tokens(rs: RedisSessions, tokens: Any) -> None:
    with pytest.raises(TypeError):
        rs.get_many(app=APP, tokens=tokens)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"offset": -1}, "offset must be an integer >= 0"),
        ({"offset": 1.0}, "offset must be an integer >= 0"),
        ({"offset": True}, "offset must be an integer >= 0"),
        ({"limit": 0}, "limit must be an integer from 1 to 1000"),
        ({"limit": 1001}, "limit must be an integer from 1 to 1000"),
        ({"limit": "50"}, "limit must be an integer from 1 to 1000"),
    ],
)
def test_paged_reads_reject_bad_paging(
    rs: RedisSessions, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        rs.soapp_page(app=APP, delta_time=600, **kwargs)  # type: ignore[arg-type]
    _assert_rejected(caught.value, VALUE, message)
    with pytest.raises(ValidationError) as caught:
        rs.user_page(app=APP, id="user1001", **kwargs)  # type: ignore[arg-type]
    _assert_rejected(caught.value, VALUE, message)


def test_user_page_rejects_a_bad_window(rs: RedisSessions) -> None:
    with pytest.raises(ValidationError) as caught:
        rs.user_page(app=APP, id="user1001", delta_time=5)
    _assert_rejected(caught.value, VALUE, "deltaTime must be a positive integer >= 10")


@pytest.mark.parametrize("buckets", [0, -1, 1001, 2.0, "24", True])
def test_activity_histogram_rejects_a_bad_bucket_count(rs: RedisSessions, buckets: object) -> None:
    with pytest.raises(ValidationError) as caught:
        rs.activity_histogram(app=APP, bucket=60, buckets=buckets)  # type: ignore[arg-type]
    _assert_rejected(caught.value, VALUE, "buckets must be an integer from 1 to 1000")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"apps": ["x"]}, "Invalid app format"),
        ({"apps": [APP], "windows": [5]}, "deltaTime must be a positive integer >= 10"),
    ],
)
def test_app_stats_validates_apps_and_windows(
    rs: RedisSessions, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        rs.app_stats(**kwargs)


def test_kill_by_handle_with_a_non_string_handle_kills_nothing(
    rs: RedisSessions, r: redis.Redis, token: str
) -> None:
    before = snapshot(r)
    assert rs.kill_by_handle(app=APP, id="user1001", handle=None) == {"kill": 0}  # type: ignore[arg-type]
    assert snapshot(r) == before


@pytest.mark.parametrize("namespace", ["", None, 7])
def test_an_empty_or_non_string_namespace_is_refused(redis_url: str, namespace: Any) -> None:
    with pytest.raises(ValueError, match="namespace must be a non-empty string"):
        RedisSessions(url=redis_url, namespace=namespace)


def test_arguments_are_keyword_only(rs: RedisSessions) -> None:
    with pytest.raises(TypeError):
        rs.create(APP, "u1", "10.0.0.1")  # type: ignore[call-arg]
