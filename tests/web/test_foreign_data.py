"""Data another program wrote into the shared Redis: every page answers 200 and shows the broken
item as unreadable, its kill still works, and ids no browser can carry (NUL, invalid UTF-8,
bidi overrides) are killable from the page and isolated where shown."""

from __future__ import annotations

import re
import threading

import pytest
import redis
from django.test import Client

from dashboard.models import KillAudit
from sessions_core import RedisSessions
from tests.web.conftest import htmx
from tests.web.test_hostile import Page

TOKEN = "F" * 55 + "Zforeign1"


def plant(client: redis.Redis, raw_id: bytes, /, token: str = TOKEN, **fields: str) -> None:
    """A session of `shop` as a Node app writes it, with raw bytes for the id."""
    now = int(client.time()[0])
    pipe = client.pipeline(transaction=True)
    pipe.zadd(b"rs:shop:_sessions", {token.encode() + b":" + raw_id: now})
    pipe.zadd(b"rs:shop:_users", {raw_id: now})
    pipe.zadd(b"rs:SESSIONS", {b"shop:" + token.encode() + b":" + raw_id: now + 3600})
    pipe.sadd(b"rs:shop:us:" + raw_id, token)
    mapping: dict[str, str | bytes | int] = {"id": raw_id, "r": 1, "w": 1, "ip": "10.0.0.9"}
    mapping |= {"la": now, "ttl": 3600}
    mapping.update(fields)
    pipe.hset(f"rs:shop:{token}", mapping=mapping)  # type: ignore[arg-type]
    pipe.execute()


def pages(client: Client, id_query: dict[str, str]) -> list[str]:
    """Every page a session shows on, answered 200."""
    answers = [
        client.get("/"),
        client.get("/apps/shop/"),
        client.get("/apps/shop/", {"window": "86400"}, headers=htmx("sessions")),
        client.get("/apps/shop/", {"q": "u1"}, headers=htmx("sessions")),
        client.get("/apps/shop/user/", id_query),
    ]
    assert [a.status_code for a in answers] == [200] * len(answers)
    return [a.content.decode() for a in answers]


def kill_from_page(client: Client, html: str) -> str:
    """Post the first row's Kill form exactly as the browser would."""
    form = Page(html).hidden
    ref = next(h["value"] for h in form if h["name"] == "ref")
    handle = next(h["value"] for h in form if h["name"] == "handle")
    response = client.post(
        "/apps/shop/kill/session/",
        {"ref": ref, "handle": handle, "back": "app"},
        headers=htmx("sessions"),
    )
    return response.content.decode()


@pytest.mark.parametrize(
    "fields",
    [
        *({"d": d} for d in ("{not json", "[1,2]", '"s"', "5")),
        *({"ttl": v} for v in ("abc", "nan")),
        {"la": "inf"},
        {"r": "abc"},
    ],
)
def test_an_unreadable_session_shows_as_such_on_every_page_and_is_killable(
    killer: Client, r: redis.Redis, fields: dict[str, str]
) -> None:
    plant(r, b"u1", **fields)
    for html in pages(killer, {"id": "u1"})[1:]:
        assert "Unreadable session" in html
    assert "1 session ended" in kill_from_page(killer, pages(killer, {"id": "u1"})[1])
    assert r.exists(f"rs:shop:{TOKEN}") == 0


@pytest.mark.parametrize("raw_id", [b"nul\x00id", b"bad\xff\xfeutf8", b"\xe2\x80\xaeevil"])
def test_ids_no_browser_can_carry_are_shown_and_killed_from_the_page(
    killer: Client, r: redis.Redis, raw_id: bytes
) -> None:
    plant(r, raw_id)
    app_page = pages(killer, {"ref": _ref(raw_id)})[1]
    assert "1 session ended" in kill_from_page(killer, app_page)
    assert r.exists(f"rs:shop:{TOKEN}") == 0
    plant(r, raw_id)
    user_page = killer.get("/apps/shop/user/", {"ref": _ref(raw_id)}).content.decode()
    ref = next(h["value"] for h in Page(user_page).hidden if h["name"] == "ref")
    response = killer.post("/apps/shop/kill/user/", {"ref": ref, "confirm": "yes"}, follow=True)
    assert "1 session ended" in response.content.decode()
    assert r.zcard("rs:shop:_sessions") == 0
    assert KillAudit.objects.filter(action="killsoid", count=1).count() == 1


def _ref(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_ids_are_bidi_isolated_in_text_titles_and_labels(
    killer: Client, store: RedisSessions
) -> None:
    evil = "\u202eevil"
    store.create(app="shop", id=evil, ip="10.0.0.1")
    app_page = killer.get("/apps/shop/").content.decode()
    assert f"<bdi>{evil}</bdi>" in app_page
    assert f'aria-label="End this session of \u2068{evil}\u2069"' in app_page
    user_page = killer.get("/apps/shop/user/", {"id": evil}).content.decode()
    assert f"<title>User \u2068{evil}\u2069 · shop" in user_page
    assert f'<code class="id" data-testid="user-id"><bdi>{evil}</bdi></code>' in user_page


def test_index_keys_of_another_type_leave_the_other_apps_and_pages_working(
    killer: Client, store: RedisSessions, r: redis.Redis
) -> None:
    store.create(app="blog", id="u2", ip="10.0.0.1")
    store.create(app="shop", id="u1", ip="10.0.0.1")
    r.delete("rs:shop:_sessions", "rs:shop:us:u1")
    r.set("rs:shop:_sessions", "foreign")
    r.set("rs:shop:us:u1", "foreign")
    r.sadd("rs:_apps", "bad app", "<x>")
    r.set("rs:_wipe", "not our json")
    apps_page, app_page, *_fragments, user_page = pages(killer, {"id": "u1"})
    assert re.search(r'data-app="blog".*?data-testid="count-sessions">1<', apps_page, re.S)
    assert "Unreadable: rs:shop:_sessions" in apps_page
    assert "bad app" not in apps_page
    assert "cannot be listed" in app_page and "cannot be listed" in user_page
    # killall of that app cannot read its index: a clear 409, nothing changed.
    response = killer.post("/apps/shop/kill/all/", {"confirm": "shop"})
    assert response.status_code == 409
    assert "Nothing was changed" in response.content.decode()
    assert r.get("rs:shop:_sessions") == "foreign"


def test_killall_of_an_app_with_index_members_that_name_no_session_works(
    killer: Client, store: RedisSessions, r: redis.Redis
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    r.zadd("rs:shop:_sessions", {"nocolon": int(r.time()[0])})
    assert killer.get("/apps/shop/").status_code == 200
    response = killer.post("/apps/shop/kill/all/", {"confirm": "shop"}, follow=True)
    assert "1 session ended" in response.content.decode()
    assert r.exists("rs:shop:_sessions") == 0


def test_an_interrupted_killall_is_audited_and_worded_truthfully(
    killer: Client, store: RedisSessions, r: redis.Redis, redis_url: str
) -> None:
    for start in range(0, 30_000, 5000):
        sessions = [{"id": f"u{i}", "ip": "1"} for i in range(start, start + 5000)]
        store.create_many(app="shop", sessions=sessions)  # type: ignore[arg-type]
    listener = redis.Redis.from_url(redis_url)
    pubsub = listener.pubsub()  # type: ignore[no-untyped-call]
    pubsub.subscribe("rs:cache")
    assert pubsub.get_message(timeout=5) is not None

    def pause_after_the_first_batch() -> None:
        # Writes stall once a batch has run: the dashboard's 2 s socket timeout fires.
        assert pubsub.get_message(timeout=10, ignore_subscribe_messages=True) is not None
        r.client_pause(5000, all=False)

    pauser = threading.Thread(target=pause_after_the_first_batch)
    pauser.start()
    response = killer.post("/apps/shop/kill/all/", {"confirm": "shop"})
    pauser.join(timeout=10)
    r.client_unpause()
    pubsub.close()
    listener.close()
    assert response.status_code == 503
    html = response.content.decode()
    (audit,) = KillAudit.objects.all()
    assert audit.interrupted and audit.action == "killall"
    assert 1000 <= audit.count < 30_000
    assert f"{audit.count:,} sessions ended before Redis failed" in html
    assert "Nothing was changed" not in html
    assert "interrupted by a Redis fault" in killer.get("/audit/").content.decode()
