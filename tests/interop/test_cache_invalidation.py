"""In-process caches on either side drop a session as soon as the other side changes it."""

from __future__ import annotations

from typing import Any

import pytest

from sessions_core import RedisSessions

from .node_driver import NodeSessions
from .stored import wait_until

pytestmark = pytest.mark.interop

APP = "cached"


def _cached_by_node(node_cached: NodeSessions, token: str) -> dict[str, Any]:
    """Read a session twice through the caching Node instance; prove the second was cached."""
    first = node_cached.get(app=APP, token=token)
    second = node_cached.get(app=APP, token=token)
    assert second == first, "the second read should come from Node's cache, reads uncounted"
    return dict(first)


def test_node_cache_sees_a_python_set_at_once(node_cached: NodeSessions, rs: RedisSessions) -> None:
    token = rs.create(app=APP, id="u:1", ip="10.0.0.1", d={"unread": 1})["token"]
    assert _cached_by_node(node_cached, token)["d"] == {"unread": 1}

    rs.set(app=APP, token=token, d={"unread": 2})

    seen = wait_until(
        lambda: node_cached.get(app=APP, token=token), lambda s: s["d"] == {"unread": 2}
    )
    assert seen["w"] == 2


def test_node_cache_returns_null_at_once_when_python_kills_the_session(
    node_cached: NodeSessions, rs: RedisSessions
) -> None:
    token = rs.create(app=APP, id="u:1", ip="10.0.0.1")["token"]
    _cached_by_node(node_cached, token)

    assert rs.kill(app=APP, token=token) == {"kill": 1}

    wait_until(lambda: node_cached.get(app=APP, token=token), lambda s: s is None)


@pytest.mark.parametrize("end", ["killsoid", "killall"])
def test_node_cache_returns_null_at_once_when_python_ends_sessions_in_bulk(
    end: str, node_cached: NodeSessions, rs: RedisSessions
) -> None:
    tokens = [rs.create(app=APP, id="u:1", ip="10.0.0.1")["token"] for _ in range(3)]
    for token in tokens:
        _cached_by_node(node_cached, token)

    if end == "killsoid":
        assert rs.killsoid(app=APP, id="u:1") == {"kill": 3}
    else:
        assert rs.killall(app=APP) == {"kill": 3}

    for token in tokens:

        def read(token: str = token) -> Any:
            return node_cached.get(app=APP, token=token)

        wait_until(read, lambda s: s is None)


def test_node_cache_drops_a_node_session_at_once_when_python_sets_it(
    node_cached: NodeSessions, rs: RedisSessions
) -> None:
    token = node_cached.create(app=APP, id="u:1", ip="10.0.0.1", d={"a": "old"})["token"]
    _cached_by_node(node_cached, token)

    rs.set(app=APP, token=token, d={"a": "new"})

    wait_until(lambda: node_cached.get(app=APP, token=token), lambda s: s["d"] == {"a": "new"})


def test_python_cache_sees_a_set_by_a_caching_node_instance_at_once(
    node_cached: NodeSessions, rs_cached: RedisSessions
) -> None:
    token = node_cached.create(app=APP, id="u:1", ip="10.0.0.1", d={"a": "old"})["token"]
    first = rs_cached.get(app=APP, token=token)
    assert rs_cached.get(app=APP, token=token) == first  # served from our cache

    node_cached.set(app=APP, token=token, d={"a": "new"})

    seen = wait_until(
        lambda: rs_cached.get(app=APP, token=token),
        lambda s: s is not None and s.get("d") == {"a": "new"},
    )
    assert seen is not None and seen["w"] == 2


def test_python_cache_returns_none_at_once_when_a_caching_node_instance_kills(
    node_cached: NodeSessions, rs_cached: RedisSessions
) -> None:
    token = rs_cached.create(app=APP, id="u:1", ip="10.0.0.1")["token"]
    assert rs_cached.get(app=APP, token=token) is not None

    assert node_cached.kill(app=APP, token=token) == {"kill": 1}

    wait_until(lambda: rs_cached.get(app=APP, token=token), lambda s: s is None)
