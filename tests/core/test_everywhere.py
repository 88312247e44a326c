"""One id across every app: its sessions grouped by app, and a log-out of every app."""

from __future__ import annotations

import redis

from sessions_core import RedisSessions

from .helpers import age_session


def _made(rs: RedisSessions, app: str, id: str, n: int) -> list[str]:
    return [rs.create(app=app, id=id, ip=f"10.0.0.{i}")["token"] for i in range(n)]


def test_user_everywhere_lists_the_ids_sessions_by_app_newest_first(
    rs: RedisSessions, r: redis.Redis
) -> None:
    shop = _made(rs, "shop", "ada", 2)
    blog = _made(rs, "blog", "ada", 1)
    _made(rs, "wiki", "bob", 1)
    age_session(r, "shop", shop[0], 120)
    found = {page["app"]: page for page in rs.user_everywhere(id="ada")}
    assert sorted(found) == ["blog", "shop"]  # wiki holds no session of ada
    assert found["shop"]["total"] == 2
    assert [row["handle"] for row in found["shop"]["rows"]] == [
        rs.handle(app="shop", token=shop[1]),
        rs.handle(app="shop", token=shop[0]),
    ]
    assert found["blog"]["rows"][0]["session"]["ip"] == "10.0.0.0"
    assert all(token not in str(found) for token in shop + blog)


def test_user_everywhere_pages_each_app_and_skips_timed_out_sessions(
    rs: RedisSessions, r: redis.Redis
) -> None:
    tokens = [
        t["token"] for t in rs.create_many(app="shop", sessions=[{"id": "bot", "ip": "1"}] * 7)
    ]
    age_session(r, "shop", tokens[0], 10**6)  # timed out, not yet wiped
    (page,) = rs.user_everywhere(id="bot", limit=5)
    assert (page["app"], page["total"], len(page["rows"])) == ("shop", 6, 5)
    assert rs.user_everywhere(id="nobody") == []


def test_killsoid_everywhere_ends_the_id_in_every_app_and_nothing_else(
    rs: RedisSessions, r: redis.Redis
) -> None:
    _made(rs, "shop", "ada", 2)
    _made(rs, "blog", "ada", 1)
    kept = _made(rs, "blog", "bob", 1)
    assert rs.killsoid_everywhere(id="ada") == {"shop": 2, "blog": 1}
    assert rs.user_everywhere(id="ada") == []
    assert rs.get(app="blog", token=kept[0]) is not None
    assert rs.killsoid_everywhere(id="ada") == {}


def test_a_token_set_of_another_type_is_reported_and_left_alone(
    rs: RedisSessions, r: redis.Redis
) -> None:
    _made(rs, "shop", "ada", 1)
    _made(rs, "blog", "ada", 1)
    r.delete("rs:blog:us:ada")
    r.set("rs:blog:us:ada", "foreign")
    found = {page["app"]: page for page in rs.user_everywhere(id="ada")}
    assert "not a set" in found["blog"]["problem"]
    assert found["shop"]["total"] == 1
    assert rs.killsoid_everywhere(id="ada") == {"shop": 1}
    assert r.get("rs:blog:us:ada") == "foreign"
