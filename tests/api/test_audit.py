"""Kills through the API are in the dashboard's audit log under the key's name."""

from __future__ import annotations

import threading

import pytest
import redis

from dashboard.models import KillAudit
from dashboard.store import sessions
from project.redis_server import RedisServer
from sessions_core import RedisSessions

from .conftest import Api, enc

pytestmark = pytest.mark.django_db(transaction=True)


def rows() -> list[tuple[object, ...]]:
    return list(
        KillAudit.objects.order_by("id").values_list(
            "operator", "operator_name", "action", "app", "user_id", "session_handle", "count"
        )
    )


def test_kill_is_audited_with_the_dashboards_handle_never_the_token(
    api: Api, redis_settings: object
) -> None:
    token = api.create("shop", "u1")

    api.delete(f"shop/kill/{token}")
    api.delete(f"shop/kill/{token}")

    handle = sessions().handle(app="shop", token=token)
    assert rows() == [
        (None, "writer", "kill", "shop", "", handle, 1),
        (None, "writer", "kill", "shop", "", handle, 0),
    ]
    assert not KillAudit.objects.filter(session_handle__contains=token[:24]).exists()


def test_killsoid_and_killall_are_audited(api: Api) -> None:
    api.create("shop", "u1")
    api.create("shop", "u1")
    api.create("shop", "u2")

    api.delete("shop/killsoid/u1")
    api.delete("shop/killall")

    assert rows() == [
        (None, "writer", "killsoid", "shop", "u1", "", 2),
        (None, "writer", "killall", "shop", "", "", 1),
    ]


def test_hostile_ids_are_stored_as_the_dashboard_stores_them(api: Api) -> None:
    api.create("shop", "<script>alert(1)</script>")
    api.create("shop", "nul\x00byte")

    api.delete(f"shop/killsoid/{enc('<script>alert(1)</script>')}")
    api.delete(f"shop/killsoid/{enc('nul' + chr(0) + 'byte')}")
    api.delete("shop/killsoid/%FF%FE")  # invalid UTF-8: a foreign id's bytes

    assert [row[4] for row in rows()] == ["<script>alert(1)</script>", "nul\\x00byte", "\\xff\\xfe"]
    assert [row[6] for row in rows()] == [1, 1, 0]


def test_refused_and_failed_kills_are_not_audited(
    api: Api, make_key: object, redis_server: RedisServer
) -> None:
    api.delete("shop/kill/short")  # 400
    api.delete("forum/killall")  # 403
    redis_server.stop()
    try:
        assert api.delete("shop/killall").status_code == 503
    finally:
        redis_server.start()

    assert rows() == []


def test_a_killall_cut_off_by_redis_is_audited_as_interrupted_and_answers_503(
    api: Api, rs: RedisSessions, r: redis.Redis, redis_url: str
) -> None:
    """killall runs in batches of 1000: Redis paused once the first batch has published
    (longer than the API's 2 s socket timeout) cuts it off part-way."""
    for start in range(0, 30_000, 5000):
        rs.create_many(
            app="shop", sessions=[{"id": f"u{i}", "ip": "1"} for i in range(start, start + 5000)]
        )
    listener = redis.Redis.from_url(redis_url, decode_responses=True)
    pubsub = listener.pubsub()  # type: ignore[no-untyped-call]
    pubsub.subscribe("rs:cache")
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"

    def pause_after_the_first_batch() -> None:
        assert pubsub.get_message(timeout=10, ignore_subscribe_messages=True) is not None
        r.client_pause(3000, all=False)

    pauser = threading.Thread(target=pause_after_the_first_batch)
    pauser.start()
    try:
        response = api.delete("shop/killall")
    finally:
        pauser.join(timeout=10)
        r.client_unpause()
        pubsub.close()
        listener.close()

    assert response.status_code == 503
    (row,) = KillAudit.objects.all()
    assert (row.operator_name, row.action, row.interrupted) == ("writer", "killall", True)
    assert 1000 <= row.count < 30_000
    assert r.zcard("rs:shop:_sessions") == 30_000 - row.count
