"""The cross-app user page: find an id in every app, kill one of its sessions, log it out of
every app after a confirmation, each app audited."""

from __future__ import annotations

import pytest
from django.test import Client

from dashboard.models import KillAudit
from sessions_core import RedisSessions
from tests.web.conftest import htmx
from tests.web.test_hostile import HOSTILE_IDS, Page, assert_inert


@pytest.fixture
def spread(store: RedisSessions) -> None:
    for app, n in (("shop", 2), ("blog", 1)):
        for i in range(n):
            store.create(app=app, id="ada", ip=f"10.0.{i}.1")
    store.create(app="wiki", id="bob", ip="10.9.9.9")


def test_the_apps_page_offers_the_search(viewer: Client, spread: None) -> None:
    html = viewer.get("/").content.decode()
    assert 'action="/users/"' in html and 'data-testid="everywhere-input"' in html


def test_an_id_is_found_in_every_app_holding_it(viewer: Client, spread: None) -> None:
    response = viewer.get("/users/", {"id": "ada"})
    assert response.status_code == 200
    groups = {g["app"]: g for g in response.context["groups"]}
    assert sorted(groups) == ["blog", "shop"]
    assert [len(g["rows"]) for g in (groups["shop"], groups["blog"])] == [2, 1]
    html = response.content.decode()
    assert "3 live sessions in 2 apps." in html
    assert "10.9.9.9" not in html  # bob's


def test_an_unknown_id_and_a_bad_query(viewer: Client, spread: None) -> None:
    html = viewer.get("/users/", {"id": "nobody"}).content.decode()
    assert "No app holds a live session of this id." in html
    assert "everywhere-button" not in html
    assert viewer.get("/users/").status_code == 400
    assert viewer.get("/users/", {"ref": "!!"}).status_code == 400


def test_viewers_see_but_only_killers_may_log_out(viewer: Client, spread: None) -> None:
    response = viewer.post("/users/kill/", {"id": "ada", "confirm": "yes"})
    assert response.status_code == 403


def test_log_out_of_every_app_needs_the_confirmation(
    killer: Client, spread: None, store: RedisSessions
) -> None:
    response = killer.post("/users/kill/", {"id": "ada"})
    assert response.status_code == 400
    assert len(store.user_everywhere(id="ada")) == 2


def test_log_out_of_every_app_ends_every_session_and_audits_each_app(
    killer: Client, spread: None, store: RedisSessions
) -> None:
    page = Page(killer.get("/users/", {"id": "ada"}).content.decode())
    ref = next(h["value"] for h in page.hidden if h["name"] == "ref")
    response = killer.post(
        "/users/kill/", {"ref": ref, "confirm": "yes"}, headers=htmx("everywhere")
    )
    html = response.content.decode()
    assert "3 sessions ended in 2 apps" in html
    assert "No app holds a live session of this id." in html
    assert "sessions-changed" in response["HX-Trigger"]
    assert store.user_everywhere(id="ada") == []
    assert len(store.user_everywhere(id="bob")) == 1
    rows = {(a.app, a.action, a.user_id, a.count) for a in KillAudit.objects.all()}
    assert rows == {("shop", "killsoid", "ada", 2), ("blog", "killsoid", "ada", 1)}


def test_without_javascript_log_out_redirects_back(
    killer: Client, spread: None, store: RedisSessions
) -> None:
    response = killer.post("/users/kill/", {"id": "ada", "confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == "/users/?id=ada"


def test_one_session_killed_from_the_page_returns_to_it(
    killer: Client, spread: None, store: RedisSessions
) -> None:
    shown = killer.get("/users/", {"id": "ada"})
    first_app = shown.context["groups"][0]["app"]  # the first card's app
    page = Page(shown.content.decode())
    hidden = [h for h in page.hidden if h["name"] in {"ref", "handle", "back"}]
    sent = {h["name"]: h["value"] for h in hidden[:3]}
    assert sent["back"] == "everywhere"
    response = killer.post(f"/apps/{first_app}/kill/session/", sent, headers=htmx("everywhere"))
    html = response.content.decode()
    assert "1 session ended" in html and "2 live sessions in " in html


@pytest.mark.parametrize("hostile", HOSTILE_IDS[:6])
def test_hostile_ids_work_and_render_inert(
    killer: Client, store: RedisSessions, hostile: str
) -> None:
    store.create(app="shop", id=hostile, ip="10.0.0.1")
    store.create(app="blog", id=hostile, ip="10.0.0.1")
    page = assert_inert(killer.get("/users/", {"id": hostile}).content.decode())
    ref = next(h["value"] for h in page.hidden if h["name"] == "ref")
    response = killer.post("/users/kill/", {"ref": ref, "confirm": "yes"}, follow=True)
    assert "2 sessions ended in 2 apps" in response.content.decode()
    assert store.user_everywhere(id=hostile) == []
