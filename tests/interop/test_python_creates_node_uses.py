"""Sessions created by this library are read, changed and ended by the Node original."""

from __future__ import annotations

import pytest
import redis

from sessions_core import RedisSessions
from sessions_core.types import DValue

from .node_driver import NodeSessions

pytestmark = pytest.mark.interop

APP = "interop"
ODD_ID = "user:42:😀"


def test_node_get_returns_what_python_get_returns_for_a_python_session(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    d: dict[str, DValue] = {
        "foo": "bar",
        "n": -7,
        "x": 0.1,
        "big": 2**53,
        "ok": True,
        "s": 'tab\t"quote" 😀',
    }
    token = rs.create(app=APP, id=ODD_ID, ip="10.0.0.1", ttl=3600, d=d)["token"]

    theirs = node_rs.get(app=APP, token=token)
    ours = rs.get(app=APP, token=token)

    assert theirs["d"] == d
    assert theirs["r"] == 1
    assert ours is not None and ours["r"] == 2  # Node's read was counted
    assert {**theirs, "r": 2, "idle": ours["idle"]} == ours


def test_node_get_of_a_python_no_resave_session_reports_the_time_left(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=100, no_resave=True)["token"]

    session = node_rs.get(app=APP, token=token)

    assert session["no_resave"] is True
    assert 98 <= session["ttl"] <= 100


def test_node_reads_every_session_of_a_python_create_many(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    batch = [{"id": f"u:{i}", "ip": f"10.0.0.{i}", "d": {"i": i}} for i in range(20)]
    tokens = [t["token"] for t in rs.create_many(app=APP, sessions=batch)]  # type: ignore[arg-type]

    sessions = [node_rs.get(app=APP, token=t) for t in tokens]

    assert [(s["id"], s["ip"], s["d"]) for s in sessions] == [
        (b["id"], b["ip"], b["d"]) for b in batch
    ]


def test_node_set_on_a_python_session_is_what_python_reads_next(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    token = rs.create(app=APP, id=ODD_ID, ip="10.0.0.1", d={"foo": "bar", "keep": 1.5})["token"]

    theirs = node_rs.set(app=APP, token=token, d={"foo": None, "unread": 12})
    ours = rs.get(app=APP, token=token)

    assert theirs["d"] == {"keep": 1.5, "unread": 12}
    assert ours is not None
    assert ours["d"] == theirs["d"]
    assert ours["w"] == 2


def test_node_soid_soapp_and_activity_see_python_sessions(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    rs.create(app=APP, id=ODD_ID, ip="10.0.0.1")
    rs.create(app=APP, id=ODD_ID, ip="10.0.0.2")
    rs.create(app=APP, id="딸기 필드 영원히", ip="10.0.0.3")

    soid = node_rs.soid(app=APP, id=ODD_ID)["sessions"]
    soapp = node_rs.soapp(app=APP, deltaTime=60)["sessions"]

    assert sorted(s["ip"] for s in soid) == ["10.0.0.1", "10.0.0.2"]
    assert sorted(s["ip"] for s in soapp) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert node_rs.activity(app=APP, deltaTime=60) == {"activity": 2}


def test_node_kill_ends_a_python_session_and_leaves_only_our_app_registry(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app=APP, id=ODD_ID, ip="10.0.0.1", d={"a": 1})["token"]

    assert node_rs.kill(app=APP, token=token) == {"kill": 1}

    assert rs.get(app=APP, token=token) is None
    assert rs.soid(app=APP, id=ODD_ID) == {"sessions": []}
    assert rs.activity(app=APP, delta_time=60) == {"activity": 0}
    assert r.keys("*") == ["rs:_apps"]


def test_node_killsoid_ends_every_python_session_of_an_id_with_colons(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    tokens = [rs.create(app=APP, id=ODD_ID, ip="10.0.0.1")["token"] for _ in range(3)]
    other = rs.create(app=APP, id="user:42", ip="10.0.0.2")["token"]

    assert node_rs.killsoid(app=APP, id=ODD_ID) == {"kill": 3}

    assert rs.get_many(app=APP, tokens=tokens) == [None, None, None]
    other_session = rs.get(app=APP, token=other)
    assert other_session is not None and other_session["id"] == "user:42"
    assert rs.activity(app=APP, delta_time=60) == {"activity": 1}


def test_node_killall_ends_every_python_session_of_an_app(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    batch = [{"id": f"user{i % 3}", "ip": "10.0.0.1"} for i in range(9)]
    tokens = [t["token"] for t in rs.create_many(app=APP, sessions=batch)]  # type: ignore[arg-type]

    assert node_rs.killall(app=APP) == {"kill": 9}

    assert rs.get_many(app=APP, tokens=tokens) == [None] * 9
    assert rs.soapp(app=APP, delta_time=60) == {"sessions": []}
    assert r.keys("*") == ["rs:_apps"]


def test_node_killall_leaves_user_sets_of_ids_with_colons_which_python_killsoid_clears(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    """The original's killall splits `{token}:{id}` at every ':' and so truncates such ids.

    The sessions end, but their `us:{id}` sets and `_users` entries stay behind (activity
    keeps counting those users). This library's killsoid clears them.
    """
    tokens = [rs.create(app=APP, id="user:7", ip="10.0.0.1")["token"] for _ in range(2)]

    assert node_rs.killall(app=APP) == {"kill": 2}

    assert rs.get_many(app=APP, tokens=tokens) == [None, None]
    assert sorted(r.smembers("rs:interop:us:user:7")) == sorted(tokens)
    assert rs.activity(app=APP, delta_time=60) == {"activity": 1}  # a stale user
    assert rs.soid(app=APP, id="user:7") == {"sessions": []}

    assert rs.killsoid(app=APP, id="user:7") == {"kill": 0}

    assert rs.activity(app=APP, delta_time=60) == {"activity": 0}
    assert r.keys("*") == ["rs:_apps"]
