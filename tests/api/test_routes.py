"""Every route of /api/v1 answers as rest-sessions does, on the 4.0.0 layout."""

from __future__ import annotations

import re

import pytest

from sessions_core import RedisSessions

from .conftest import Api, enc

pytestmark = pytest.mark.django_db(transaction=True)


def test_ping_needs_no_key(api: Api) -> None:
    response = api.get("ping", key=None)

    assert response.status_code == 200
    assert response.json() == "PONG"
    assert response.headers["content-type"] == "application/json"


def test_create_returns_a_token_and_stores_ip_ttl_and_d(api: Api, rs: RedisSessions) -> None:
    response = api.put("shop/create/user1", params={"ip": "10.0.0.7", "ttl": "600"}, json={"a": 1})

    assert response.status_code == 200
    token = response.json()["token"]
    assert re.fullmatch("[A-Za-z0-9]{64}", token)
    session = rs.get(app="shop", token=token)
    assert session is not None
    assert (session["id"], session["ip"], session["ttl"], session["d"]) == (
        "user1",
        "10.0.0.7",
        600,
        {"a": 1},
    )


def test_create_without_ttl_uses_7200_and_an_empty_body_or_object_means_no_d(
    api: Api, rs: RedisSessions
) -> None:
    bare = api.create("shop", "u1")
    empty = api.create("shop", "u1", json={})

    for token in (bare, empty):
        session = rs.get(app="shop", token=token)
        assert session is not None
        assert session["ttl"] == 7200
        assert "d" not in session


def test_create_reads_ttl_as_parseint_does(api: Api, rs: RedisSessions) -> None:
    token = api.put("shop/create/u1", params={"ip": "1.2.3.4", "ttl": " 600s"}).json()["token"]

    session = rs.get(app="shop", token=token)
    assert session is not None and session["ttl"] == 600


def test_get_returns_the_session_as_the_library_does(api: Api, rs: RedisSessions) -> None:
    token = api.create("shop", "u1", json={"x": 0.1, "s": "é"})

    response = api.get(f"shop/get/{token}")

    assert response.status_code == 200
    assert response.json() == {
        "id": "u1",
        "r": 1,
        "w": 1,
        "ttl": 7200,
        "idle": 0,
        "ip": "10.0.0.1",
        "d": {"x": 0.1, "s": "é"},
    }
    assert rs.get(app="shop", token=token)["r"] == 2  # type: ignore[index]


def test_get_of_an_unknown_token_is_an_empty_object(api: Api) -> None:
    response = api.get("shop/get/" + "a" * 64)

    assert response.status_code == 200
    assert response.json() == {}


def test_set_merges_d_and_null_deletes_a_key(api: Api) -> None:
    token = api.create("shop", "u1", json={"a": 1, "b": 2})

    response = api.post(f"shop/set/{token}", json={"a": None, "c": "new"})

    assert response.status_code == 200
    body = response.json()
    assert body["d"] == {"b": 2, "c": "new"}
    assert body["w"] == 2


def test_set_of_an_unknown_token_is_an_empty_object(api: Api) -> None:
    response = api.post("shop/set/" + "b" * 64, json={"a": 1})

    assert response.status_code == 200
    assert response.json() == {}


def test_activity_counts_unique_ids(api: Api) -> None:
    api.create("shop", "u1")
    api.create("shop", "u1")
    api.create("shop", "u2")

    response = api.get("shop/activity", params={"dt": "600"})

    assert response.status_code == 200
    assert response.json() == {"activity": 2}


def test_soapp_lists_the_apps_recent_sessions(api: Api) -> None:
    api.create("shop", "u1")
    api.create("shop", "u2")
    api.create("blog", "u3")

    response = api.get("shop/soapp", params={"dt": "600"})

    assert response.status_code == 200
    assert sorted(s["id"] for s in response.json()["sessions"]) == ["u1", "u2"]


def test_soid_lists_one_ids_sessions(api: Api) -> None:
    api.create("shop", "u1", json={"n": 1})
    api.create("shop", "u1", json={"n": 2})
    api.create("shop", "u2")

    response = api.get("shop/soid/u1")

    assert response.status_code == 200
    sessions = response.json()["sessions"]
    assert sorted(s["d"]["n"] for s in sessions) == [1, 2]


def test_kill_ends_one_session(api: Api, rs: RedisSessions) -> None:
    token = api.create("shop", "u1")

    first = api.delete(f"shop/kill/{token}")
    second = api.delete(f"shop/kill/{token}")

    assert (first.status_code, first.json()) == (200, {"kill": 1})
    assert (second.status_code, second.json()) == (200, {"kill": 0})
    assert rs.get(app="shop", token=token) is None


def test_killsoid_ends_every_session_of_the_id(api: Api, rs: RedisSessions) -> None:
    tokens = [api.create("shop", "u1") for _ in range(3)]
    other = api.create("shop", "u2")

    response = api.delete("shop/killsoid/u1")

    assert response.json() == {"kill": 3}
    assert all(rs.get(app="shop", token=t) is None for t in tokens)
    assert rs.get(app="shop", token=other) is not None


def test_killall_ends_every_session_of_the_app_only(api: Api, rs: RedisSessions) -> None:
    for i in range(4):
        api.create("shop", f"u{i}")
    kept = api.create("blog", "u1")

    response = api.delete("shop/killall")

    assert response.json() == {"kill": 4}
    assert rs.soapp(app="shop", delta_time=600) == {"sessions": []}
    assert rs.get(app="blog", token=kept) is not None


def test_answers_are_json_never_cached(api: Api) -> None:
    token = api.create("shop", "u1")

    response = api.get(f"shop/get/{token}")

    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_session_made_by_the_library_is_read_through_the_api(api: Api, rs: RedisSessions) -> None:
    token = rs.create(app="shop", id="lib:user", ip="10.1.1.1", d={"k": "v"})["token"]

    body = api.get(f"shop/get/{token}").json()

    assert (body["id"], body["d"]) == ("lib:user", {"k": "v"})
    assert api.get(f"shop/soid/{enc('lib:user')}").json()["sessions"][0]["ip"] == "10.1.1.1"
