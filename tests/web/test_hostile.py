"""Ids and data written by end users are hostile: every page and kill works and stays inert."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from dashboard.models import KillAudit
from dashboard.templatetags.dashboard import from_id_ref
from sessions_core import RedisSessions
from tests.web.conftest import htmx

HOSTILE_IDS = [
    "<script>alert(1)</script>",
    '" onmouseover="alert(1)',
    "a/b/../../c",
    "user:42:admin",
    "what?x=1&y=2",
    "#fragment",
    "100% %2F %00",
    "🎉 émoji 👩‍👩‍👧 ﷽",
    "\u202eRTL override",
    "  spaced  ",
    "{{ 7*7 }} {% csrf_token %}",
    "x" * 128,
    "🎉" * 128,
]
HOSTILE_D = {"<b>key</b>": "<img src=x onerror=alert(1)>", "note": "</textarea><script>1</script>"}


class Page(HTMLParser):
    """Collects what a browser would act on: tags, attributes, forms' hidden fields, links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.event_attributes: list[str] = []
        self.links: list[str] = []
        self.hidden: list[dict[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
        self.event_attributes += [name for name, _ in attrs if name.startswith("on")]
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag == "input" and found.get("type") == "hidden":
            self.hidden.append({k: v or "" for k, v in attrs})


def assert_inert(html: str) -> Page:
    page = Page(html)
    assert all(str(s.get("src", "")).startswith("/static/") for s in page.scripts)
    assert page.event_attributes == []
    assert "<script>alert" not in html and "<img src=x" not in html
    return page


@pytest.fixture(params=HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
def hostile(request: pytest.FixtureRequest, store: RedisSessions) -> str:
    id: str = request.param
    store.create(app="shop", id=id, ip="10.0.0.1", d=HOSTILE_D)
    store.create(app="shop", id=id, ip="10.0.0.2")
    return id


def test_hostile_ids_render_inert_on_the_apps_and_app_pages(killer: Client, hostile: str) -> None:
    assert_inert(killer.get("/").content.decode())
    for response in [
        killer.get("/apps/shop/"),
        killer.get("/apps/shop/", headers=htmx("sessions")),
    ]:
        assert response.status_code == 200
        assert_inert(response.content.decode())
        assert response.context["rows"][0]["session"]["id"] == hostile


def test_hostile_id_links_lead_to_that_users_page(killer: Client, hostile: str) -> None:
    page = assert_inert(killer.get("/apps/shop/").content.decode())
    (link,) = {href for href in page.links if href.startswith("/apps/shop/user/")}
    response = killer.get(link)
    assert response.status_code == 200
    assert response.context["id"] == hostile
    html = response.content.decode()
    assert_inert(html)
    assert html.count('data-testid="session-row"') == 2
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_hostile_ids_can_be_searched(killer: Client, hostile: str) -> None:
    response = killer.get("/apps/shop/", {"q": hostile}, headers=htmx("sessions"))
    assert response.status_code == 200
    assert_inert(response.content.decode())
    assert len(response.context["rows"]) == 2


def test_hostile_ids_can_be_killed_one_session_at_a_time_from_the_forms_in_the_page(
    killer: Client, store: RedisSessions, hostile: str
) -> None:
    page = Page(killer.get("/apps/shop/user/", {"id": hostile}).content.decode())
    forms = [h for h in page.hidden if h["name"] in {"ref", "handle"}]
    sent = {"ref": forms[0]["value"], "handle": forms[1]["value"], "back": "user"}
    assert from_id_ref(sent["ref"]) == hostile
    response = killer.post("/apps/shop/kill/session/", sent, headers=htmx("user-sessions"))
    assert_inert(response.content.decode())
    assert "1 session ended" in response.content.decode()
    assert len(store.soid(app="shop", id=hostile)["sessions"]) == 1


def test_hostile_ids_can_be_logged_out_everywhere_and_show_in_the_audit_log(
    killer: Client, store: RedisSessions, hostile: str
) -> None:
    response = killer.post("/apps/shop/kill/user/", {"id": hostile, "confirm": "yes"}, follow=True)
    assert response.status_code == 200
    assert "2 sessions ended" in response.content.decode()
    assert response.context["id"] == hostile
    assert store.soid(app="shop", id=hostile)["sessions"] == []
    assert KillAudit.objects.get().user_id == hostile
    audit = assert_inert(killer.get("/audit/").content.decode())
    (link,) = [href for href in audit.links if href.startswith("/apps/shop/user/")]
    assert killer.get(link).context["id"] == hostile
