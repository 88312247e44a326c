"""An app that is neither registered nor holds sessions is a 404: its page, its user page, its
kills. Apps a Node app alone wrote, and apps emptied by a killall, are still found."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client

from dashboard.models import KillAudit
from sessions_core import RedisSessions
from tests.web.conftest import client_for, htmx

KILLS = {
    "/apps/nosuch/kill/session/": {"id": "u1", "handle": "abc"},
    "/apps/nosuch/kill/user/": {"id": "u1", "confirm": "yes"},
    "/apps/nosuch/kill/all/": {"confirm": "nosuch"},
}


@pytest.fixture
def shop(store: RedisSessions) -> RedisSessions:
    """A known app beside the unknown one, with a session nothing may touch."""
    store.create(app="shop", id="u1", ip="10.0.0.1")
    return store


@pytest.mark.parametrize(
    "url", ["/apps/nosuch/", "/apps/nosuch/?window=86400", "/apps/nosuch/user/?id=x"]
)
def test_pages_of_an_unknown_app_are_404(viewer: Client, shop: RedisSessions, url: str) -> None:
    response = viewer.get(url)
    assert response.status_code == 404


@pytest.mark.parametrize("target", ["live", "sessions"])
def test_fragments_of_an_unknown_app_are_404_that_reload_the_page(
    viewer: Client, shop: RedisSessions, target: str
) -> None:
    """A poll of an app gone since the page was loaded: the page reloads, as a 404 page."""
    response = viewer.get("/apps/nosuch/", headers=htmx(target))
    assert response.status_code == 404
    assert response["HX-Refresh"] == "true"


@pytest.mark.parametrize("url", KILLS)
def test_kills_in_an_unknown_app_are_404_and_end_nothing(
    killer: Client, shop: RedisSessions, url: str
) -> None:
    assert killer.post(url, KILLS[url]).status_code == 404
    fragment = killer.post(url, KILLS[url], headers=htmx("sessions"))
    assert (fragment.status_code, fragment["HX-Refresh"]) == (404, "true")
    assert len(shop.soid(app="shop", id="u1")["sessions"]) == 1
    assert not KillAudit.objects.exists()


@pytest.mark.parametrize("url", KILLS)
def test_kill_urls_of_an_unknown_app_tell_an_anonymous_visitor_nothing(
    make_user: Callable[..., User], shop: RedisSessions, url: str
) -> None:
    """The login redirect, as for a known app: app names cannot be probed without a login."""
    response = client_for("anonymous", make_user).post(url, KILLS[url])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", KILLS)
def test_kill_urls_of_an_unknown_app_still_answer_get_with_405(
    killer: Client, shop: RedisSessions, url: str
) -> None:
    assert killer.get(url).status_code == 405


def test_an_app_only_a_node_app_wrote_is_found(
    killer: Client, store: RedisSessions, r: redis.Redis
) -> None:
    store.create(app="nodeapp", id="n1", ip="10.0.0.1")
    r.delete(store.keys.apps_registry)  # as if the Node library had written the session
    assert killer.get("/apps/nodeapp/").status_code == 200
    assert killer.get("/apps/nodeapp/user/", {"id": "n1"}).status_code == 200
    assert (
        killer.post("/apps/nodeapp/kill/user/", {"id": "n1", "confirm": "yes"}).status_code == 302
    )
    assert store.soid(app="nodeapp", id="n1")["sessions"] == []


def test_an_app_emptied_by_a_killall_is_still_found(killer: Client, store: RedisSessions) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    assert killer.post("/apps/shop/kill/all/", {"confirm": "shop"}).status_code == 302
    assert killer.get("/apps/shop/").status_code == 200
    assert killer.post("/apps/shop/kill/all/", {"confirm": "shop"}).status_code == 302
