"""Sessions created by the Node original are read, changed and ended by this library."""

from __future__ import annotations

import pytest
import redis

from sessions_core import RedisSessions

from .node_driver import NodeSessions

pytestmark = pytest.mark.interop

APP = "interop"
ODD_ID = "user:42:😀"  # ids may hold ':' and any Unicode


def test_python_get_returns_what_node_get_returns_for_a_node_session(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    d = {"foo": "bar", "n": 42, "pi": 3.14159, "ok": True, "no": False, "s": 'héllo 😀 "q"'}
    token = node_rs.create(app=APP, id=ODD_ID, ip="10.0.0.1", ttl=3600, d=d)["token"]

    ours = rs.get(app=APP, token=token)
    theirs = node_rs.get(app=APP, token=token)

    assert ours is not None
    assert ours["d"] == d
    assert ours["r"] == 1  # as stored before this read, like the original
    assert theirs["r"] == 2  # our read was counted
    assert {**ours, "r": 2, "idle": theirs["idle"]} == theirs


def test_python_get_of_a_node_no_resave_session_reports_the_time_left(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    token = node_rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=100, no_resave=True)["token"]

    session = rs.get(app=APP, token=token)

    assert session is not None
    assert session["no_resave"] is True
    assert 98 <= session["ttl"] <= 100
    assert "d" not in session


def test_python_set_on_a_node_session_is_what_node_reads_next(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    token = node_rs.create(app=APP, id=ODD_ID, ip="10.0.0.1", d={"foo": "bar", "keep": 1})["token"]

    ours = rs.set(app=APP, token=token, d={"foo": None, "unread": 12, "emoji": "🎉"})
    theirs = node_rs.get(app=APP, token=token)

    assert ours is not None
    assert ours["d"] == {"keep": 1, "unread": 12, "emoji": "🎉"}
    assert theirs["d"] == ours["d"]
    assert theirs["w"] == 2


def test_python_set_removing_the_last_key_leaves_node_a_session_without_d(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    token = node_rs.create(app=APP, id="u1", ip="10.0.0.1", d={"only": "one"})["token"]

    rs.set(app=APP, token=token, d={"only": None})

    assert "d" not in node_rs.get(app=APP, token=token)
    assert r.hexists(f"rs:{APP}:{token}", "d") is False


def test_python_soid_lists_every_node_session_of_an_id_with_colons_and_emoji(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    for ip in ("10.0.0.1", "10.0.0.2"):
        node_rs.create(app=APP, id=ODD_ID, ip=ip, d={"ip": ip})
    node_rs.create(app=APP, id="user:42", ip="10.0.0.3")  # a prefix of the odd id

    ours = rs.soid(app=APP, id=ODD_ID)["sessions"]
    theirs = node_rs.soid(app=APP, id=ODD_ID)["sessions"]

    assert sorted(s["ip"] for s in ours) == ["10.0.0.1", "10.0.0.2"]
    assert {s["id"] for s in ours} == {ODD_ID}
    assert sorted((s["ip"], s["d"]["ip"]) for s in ours) == sorted(
        (s["ip"], s["d"]["ip"]) for s in theirs
    )


def test_python_soapp_and_activity_count_node_sessions(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    node_rs.create(app=APP, id=ODD_ID, ip="10.0.0.1")
    node_rs.create(app=APP, id=ODD_ID, ip="10.0.0.2")
    node_rs.create(app=APP, id="딸기 필드 영원히", ip="10.0.0.3")

    sessions = rs.soapp(app=APP, delta_time=60)["sessions"]

    assert sorted(s["ip"] for s in sessions) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert rs.activity(app=APP, delta_time=60) == {"activity": 2}
    assert node_rs.activity(app=APP, deltaTime=60) == {"activity": 2}


def test_python_kill_ends_a_node_session_and_leaves_no_key_behind(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    token = node_rs.create(app=APP, id=ODD_ID, ip="10.0.0.1", d={"a": 1})["token"]

    assert rs.kill(app=APP, token=token) == {"kill": 1}

    assert node_rs.get(app=APP, token=token) is None
    assert node_rs.soid(app=APP, id=ODD_ID) == {"sessions": []}
    assert node_rs.activity(app=APP, deltaTime=60) == {"activity": 0}
    assert r.keys("*") == []
    assert rs.kill(app=APP, token=token) == {"kill": 0}


def test_python_killsoid_ends_every_node_session_of_an_id_with_colons(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    tokens = [node_rs.create(app=APP, id=ODD_ID, ip="10.0.0.1")["token"] for _ in range(3)]
    other = node_rs.create(app=APP, id="user:42", ip="10.0.0.2")["token"]

    assert rs.killsoid(app=APP, id=ODD_ID) == {"kill": 3}

    assert [node_rs.get(app=APP, token=t) for t in tokens] == [None, None, None]
    assert node_rs.get(app=APP, token=other)["id"] == "user:42"
    assert node_rs.activity(app=APP, deltaTime=60) == {"activity": 1}
    assert node_rs.killsoid(app=APP, id=ODD_ID) == {"kill": 0}


def test_python_killall_ends_every_node_session_of_an_app_and_no_other(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    tokens = [node_rs.create(app=APP, id=f"u:{i}", ip="10.0.0.1")["token"] for i in range(5)]
    kept = node_rs.create(app="otherapp", id="u:0", ip="10.0.0.1")["token"]

    assert rs.killall(app=APP) == {"kill": 5}

    assert all(node_rs.get(app=APP, token=t) is None for t in tokens)
    assert node_rs.soapp(app=APP, deltaTime=60) == {"sessions": []}
    assert node_rs.get(app="otherapp", token=kept)["id"] == "u:0"
    assert all(":otherapp:" in k or k == "rs:SESSIONS" for k in r.keys("*"))


def test_apps_created_only_by_node_show_up_in_python_apps(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    node_rs.create(app="node_only", id="u1", ip="10.0.0.1")
    node_rs.create(app="node-too", id="u:2", ip="10.0.0.1")

    assert rs.apps() == ["node-too", "node_only"]
