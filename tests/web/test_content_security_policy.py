"""Every answer carries a Content-Security-Policy without unsafe-inline or unsafe-eval, and no
page needs either: no inline script, event handler, style attribute or hx-on."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User

from sessions_core import RedisSessions
from tests.web.conftest import client_for, htmx

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response: Any) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


class Inline(HTMLParser):
    """What a strict policy would block: inline scripts, inline handlers and styles."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.in_script = True
        if tag == "style":
            self.found.append("<style>")
        self.found += [
            f"{tag}[{name}]"
            for name in names
            if name.startswith(("on", "hx-on", "hx-vars")) or name == "style"
        ]

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:60]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False


@pytest.fixture
def seeded(store: RedisSessions) -> RedisSessions:
    store.create(app="shop", id="u1", ip="10.0.0.1", d={"plan": "pro"})
    return store


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("killer", "/", 200),
        ("killer", "/apps/shop/", 200),
        ("killer", "/apps/shop/?window=86400&q=u1", 200),
        ("killer", "/apps/shop/user/?id=u1", 200),
        ("killer", "/audit/", 200),
        ("killer", "/admin/", 200),
        ("killer", "/apps/nosuch/", 404),
        ("killer", "/no/such/page/", 404),
        ("killer", "/apps/shop/?window=7", 400),
        ("staff", "/", 403),
        ("anonymous", "/accounts/login/", 200),
        ("anonymous", "/admin/login/", 200),
        ("anonymous", "/healthz", 200),
    ],
)
def test_every_page_has_the_strict_policy_and_nothing_inline(
    make_user: Callable[..., User], seeded: RedisSessions, role: str, url: str, status: int
) -> None:
    response = client_for(role, make_user).get(url)
    assert response.status_code == status
    assert policy(response) == DIRECTIVES
    if response["Content-Type"].startswith("text/html"):
        assert Inline(response.content.decode()).found == []


@pytest.mark.parametrize("target", ["live", "sessions"])
def test_fragments_have_the_policy_and_nothing_inline(
    make_user: Callable[..., User], seeded: RedisSessions, target: str
) -> None:
    response = client_for("viewer", make_user).get("/apps/shop/", headers=htmx(target))
    assert policy(response) == DIRECTIVES
    assert Inline(response.content.decode()).found == []


def test_a_kill_answer_has_the_policy(
    make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    client = client_for("killer", make_user)
    response = client.post("/apps/shop/kill/all/", {"confirm": "shop"}, headers=htmx("sessions"))
    assert response.status_code == 200
    assert policy(response) == DIRECTIVES


def test_htmx_runs_without_eval_inline_scripts_or_inline_styles(
    make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    html = client_for("viewer", make_user).get("/apps/shop/").content.decode()
    assert '"allowEval": false' in html
    assert '"allowScriptTags": false' in html
    assert '"includeIndicatorStyles": false' in html
    assert '<script src="/static/dashboard/dashboard.js" defer></script>' in html
    assert "document.getElementById" not in html  # no trigger filter left to evaluate


def test_the_500_page_has_the_policy(
    make_user: Callable[..., User], settings: Any, redis_settings: object
) -> None:
    settings.ROOT_URLCONF = "tests.web.error_urls"
    client = client_for("viewer", make_user)
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert policy(response) == DIRECTIVES
    assert Inline(response.content.decode()).found == []


def test_a_form_refused_by_the_csrf_check_is_the_dashboards_page(
    make_user: Callable[..., User], seeded: RedisSessions
) -> None:
    """Django's own CSRF page has an inline style; this one has nothing the policy blocks."""
    client = client_for("killer", make_user, enforce_csrf_checks=True)
    response = client.post("/apps/shop/kill/all/", {"confirm": "shop"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>Form refused</h1>" in html and "Reload the page and try again." in html
    assert Inline(html).found == []
    assert policy(response) == DIRECTIVES
    assert len(seeded.soid(app="shop", id="u1")["sessions"]) == 1

    fragment = client.post("/apps/shop/kill/all/", {"confirm": "shop"}, headers=htmx("sessions"))
    assert fragment.status_code == 422
    assert fragment["HX-Retarget"] == "#messages"
    assert "Reload the page and try again." in fragment.content.decode()
