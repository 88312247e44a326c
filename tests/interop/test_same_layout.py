"""Whichever side writes, Redis holds the same keys, fields, members, scores and messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from sessions_core import RedisSessions

from .node_driver import NodeSessions
from .stored import NS, OUR_OWN_KEYS, snapshot

pytestmark = pytest.mark.interop

APP = "layout"
SESSIONS: list[dict[str, Any]] = [
    {"id": "user1001", "ip": "192.168.22.58"},
    {
        "id": "user:42:😀",
        "ip": "2001:db8::1",
        "ttl": 3600,
        "d": {
            "foo": "bar",
            "n": 42,
            "neg": -7,
            "pi": 3.14159,
            "sum": 0.1 + 0.2,
            "ok": True,
            "no": False,
            "gone": None,
            "s": 'héllo 😀 "q" \\ / \t\n\u2028',
        },
        "no_resave": True,
    },
    {"id": "딸기 필드 영원히", "ip": "10.0.0.1", "ttl": 10, "d": {"only": None, "x": 1}},
]


@pytest.mark.parametrize("session", SESSIONS, ids=lambda s: s["id"])
def test_a_session_is_stored_identically_whichever_side_creates_it(
    session: dict[str, Any], node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    node_token = node_rs.create(app=APP, **session)["token"]
    by_node = snapshot(r, {node_token: "{token}"})
    node_la = int(r.hget(f"{NS}:{APP}:{node_token}", "la"))  # type: ignore[arg-type]
    r.flushall()
    python_token = rs.create(app=APP, **session)["token"]
    by_python = snapshot(r, {python_token: "{token}"})
    python_la = int(r.hget(f"{NS}:{APP}:{python_token}", "la"))  # type: ignore[arg-type]

    assert by_python == by_node
    assert abs(python_la - node_la) <= 2
    # Beyond the original's keys, this library keeps only its own app registry.
    ours = {key.replace("{token}", python_token) for key in by_python}
    assert set(r.keys("*")) - ours == {f"{NS}:_apps"} <= OUR_OWN_KEYS


def test_set_stores_the_same_d_text_and_counters_whichever_side_sets(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    changes: list[dict[str, Any]] = [
        {"a": 1, "b": "two", "c": None},
        {"a": None, "d": 2.5, "e": "é😀"},
        {"b": False},
    ]
    node_token = node_rs.create(app=APP, id="u:1", ip="10.0.0.1", d={"z": 0})["token"]
    for d in changes:
        node_rs.set(app=APP, token=node_token, d=d)
    by_node = snapshot(r, {node_token: "{token}"})
    r.flushall()
    python_token = rs.create(app=APP, id="u:1", ip="10.0.0.1", d={"z": 0})["token"]
    for d in changes:
        rs.set(app=APP, token=python_token, d=d)
    by_python = snapshot(r, {python_token: "{token}"})

    assert by_python == by_node
    assert by_python["rs:layout:{token}"][1]["d"] == '{"z":0,"b":false,"d":2.5,"e":"é😀"}'
    assert by_python["rs:layout:{token}"][1]["w"] == "4"


@pytest.fixture
def cache_messages(r: redis.Redis) -> Iterator[Callable[[int], list[str]]]:
    """Subscribe to `rs:cache`; returns a function collecting the next n messages."""
    pubsub: Any = r.pubsub()  # type: ignore[no-untyped-call]
    pubsub.subscribe(f"{NS}:cache")
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"

    def take(n: int) -> list[str]:
        messages: list[str] = []
        while len(messages) < n:
            message = pubsub.get_message(timeout=5)
            assert message is not None, f"only {len(messages)} of {n} cache messages arrived"
            messages.append(message["data"])
        return messages

    yield take
    pubsub.close()


def test_set_and_kill_publish_the_same_cache_messages_as_a_caching_node_instance(
    node_cached: NodeSessions, rs: RedisSessions, cache_messages: Callable[[int], list[str]]
) -> None:
    node_token = node_cached.create(app=APP, id="u:1", ip="10.0.0.1")["token"]
    node_cached.set(app=APP, token=node_token, d={"a": 1})
    node_cached.kill(app=APP, token=node_token)
    python_token = rs.create(app=APP, id="u:1", ip="10.0.0.1")["token"]
    rs.set(app=APP, token=python_token, d={"a": 1})
    rs.kill(app=APP, token=python_token)

    assert cache_messages(4) == [f"{APP}:{node_token}"] * 2 + [f"{APP}:{python_token}"] * 2


def test_killsoid_and_killall_publish_one_message_per_session_like_a_caching_node_instance(
    node_cached: NodeSessions, rs: RedisSessions, cache_messages: Callable[[int], list[str]]
) -> None:
    def make(create: Callable[..., Any]) -> list[str]:
        return sorted(create(app=APP, id="u:1", ip="10.0.0.1")["token"] for _ in range(2))

    node_soid = make(node_cached.create)
    node_cached.killsoid(app=APP, id="u:1")
    python_soid = make(rs.create)
    rs.killsoid(app=APP, id="u:1")
    node_all = make(node_cached.create)
    node_cached.killall(app=APP)
    python_all = make(rs.create)
    rs.killall(app=APP)

    messages = cache_messages(8)

    def tokens(chunk: list[str]) -> list[str]:
        assert all(m.startswith(f"{APP}:") for m in chunk)
        return sorted(m.removeprefix(f"{APP}:") for m in chunk)

    assert tokens(messages[0:2]) == node_soid
    assert tokens(messages[2:4]) == python_soid
    assert tokens(messages[4:6]) == node_all
    assert tokens(messages[6:8]) == python_all
