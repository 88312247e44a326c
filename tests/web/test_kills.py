"""Kill actions: one session, one user everywhere, a whole app; audited, tokens never shown."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from dashboard.models import KillAudit
from sessions_core import RedisSessions
from tests.web.conftest import htmx


def alive(store: RedisSessions, app: str, id: str) -> int:
    return len(store.soid(app=app, id=id)["sessions"])


@pytest.fixture
def tokens(store: RedisSessions) -> list[str]:
    """Two sessions of u1 and one of u2 in shop, one of u1 in blog."""
    made = [
        store.create(app="shop", id="u1", ip="10.0.0.1"),
        store.create(app="shop", id="u1", ip="10.0.0.2"),
        store.create(app="shop", id="u2", ip="10.0.0.3"),
        store.create(app="blog", id="u1", ip="10.0.0.4"),
    ]
    return [t["token"] for t in made]


def handle_of(store: RedisSessions, token: str, app: str = "shop") -> str:
    return store.handle(app=app, token=token)


def test_kill_session_from_the_app_table_answers_with_the_updated_table(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    handle = handle_of(store, tokens[0])
    response = killer.post(
        "/apps/shop/kill/session/",
        {"id": "u1", "handle": handle, "back": "app", "window": "600", "page": "1", "q": ""},
        headers=htmx("sessions"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="sessions"')
    assert "active in the last 10 min" in html
    assert handle not in html
    assert html.count('data-testid="session-row"') == 2
    assert '<p class="message message-success" data-testid="message">1 session ended</p>' in html
    assert response["HX-Trigger"] == '{"sessions-changed": {}}'
    assert store.get(app="shop", token=tokens[0]) is None
    assert alive(store, "shop", "u1") == 1


def test_kill_session_without_javascript_redirects_back_with_a_message(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    response = killer.post(
        "/apps/shop/kill/session/",
        {"id": "u1", "handle": handle_of(store, tokens[1]), "window": "86400", "page": "2"},
        follow=True,
    )
    assert response.redirect_chain == [("/apps/shop/?window=86400&page=2", 302)]
    assert "1 session ended" in response.content.decode()
    assert alive(store, "shop", "u1") == 1


def test_kill_session_from_the_user_page_answers_with_the_user_sessions(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    response = killer.post(
        "/apps/shop/kill/session/",
        {"id": "u1", "handle": handle_of(store, tokens[0]), "back": "user"},
        headers=htmx("user-sessions"),
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="user-sessions"')
    assert html.count('data-testid="session-row"') == 1
    full = killer.post(
        "/apps/shop/kill/session/",
        {"id": "u1", "handle": handle_of(store, tokens[1]), "back": "user"},
    )
    assert full["Location"] == "/apps/shop/user/?id=u1"
    assert alive(store, "shop", "u1") == 0
    assert alive(store, "blog", "u1") == 1


def test_kill_session_from_page_2_of_the_user_page_answers_with_page_2(
    killer: Client, store: RedisSessions
) -> None:
    made = store.create_many(app="shop", sessions=[{"id": "u9", "ip": "10.0.0.1"}] * 60)
    victim = store.user_page(app="shop", id="u9", offset=50, limit=1)["rows"][0]["handle"]
    form = {"id": "u9", "handle": victim, "back": "user", "page": 2}
    response = killer.post("/apps/shop/kill/session/", form, headers=htmx("user-sessions"))
    html = response.content.decode()
    assert html.count('data-testid="session-row"') == 9
    assert 'data-testid="page-number">Page 2 of 2<' in html
    full = killer.post("/apps/shop/kill/session/", {**form, "handle": "0" * 24})
    assert full["Location"] == "/apps/shop/user/?id=u9&page=2"
    assert alive(store, "shop", "u9") == len(made) - 1


def test_kill_session_with_a_handle_of_another_user_ends_nothing(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    response = killer.post(
        "/apps/shop/kill/session/",
        {"id": "u1", "handle": handle_of(store, tokens[2])},
        headers=htmx("sessions"),
    )
    assert "0 sessions ended" in response.content.decode()
    assert alive(store, "shop", "u2") == 1
    assert KillAudit.objects.get().count == 0


@pytest.mark.parametrize(
    "form",
    [
        {"id": "u1", "handle": ""},
        {"id": "u1", "handle": "NOT-HEX"},
        {"id": "", "handle": "abc"},
        {"id": "x" * 129, "handle": "abc"},
        {"id": "u1", "handle": "abc", "window": "7"},
        {"id": "u1", "handle": "abc", "back": "elsewhere"},
    ],
)
def test_bad_kill_session_forms_are_400_and_change_nothing(
    killer: Client, store: RedisSessions, tokens: list[str], form: dict[str, str]
) -> None:
    response = killer.post("/apps/shop/kill/session/", form)
    assert response.status_code == 400
    assert 'data-testid="problem-detail"' in response.content.decode()
    assert store.app_stats(apps=["shop"])[0]["sessions"] == 3
    assert not KillAudit.objects.exists()


def test_log_out_everywhere_needs_the_confirmation(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    response = killer.post("/apps/shop/kill/user/", {"id": "u1"}, headers=htmx("user-sessions"))
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#messages"
    assert "Tick the box to confirm." in response.content.decode()
    assert alive(store, "shop", "u1") == 2


def test_log_out_everywhere_ends_every_session_of_the_id_in_that_app_only(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    response = killer.post(
        "/apps/shop/kill/user/", {"id": "u1", "confirm": "yes"}, headers=htmx("user-sessions")
    )
    html = response.content.decode()
    assert "2 sessions ended" in html
    assert "No live sessions for this id." in html
    assert alive(store, "shop", "u1") == 0
    assert alive(store, "shop", "u2") == 1
    assert alive(store, "blog", "u1") == 1
    entry = KillAudit.objects.get()
    assert (entry.action, entry.app, entry.user_id, entry.count) == ("killsoid", "shop", "u1", 2)
    assert (entry.operator_name, entry.session_handle) == ("killer", "")


def test_log_out_everywhere_without_javascript_returns_to_the_user_page(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    response = killer.post("/apps/shop/kill/user/", {"id": "u1", "confirm": "yes"}, follow=True)
    assert response.redirect_chain == [("/apps/shop/user/?id=u1", 302)]
    assert "2 sessions ended" in response.content.decode()


def test_kill_all_needs_the_app_name_typed_and_changes_nothing_otherwise(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    for typed in ["", "SHOP", "blog", "shop!"]:
        response = killer.post("/apps/shop/kill/all/", {"confirm": typed})
        assert response.status_code == 400
    assert "Type the app name exactly to confirm." in response.content.decode()
    assert store.app_stats(apps=["shop"])[0]["sessions"] == 3
    assert not KillAudit.objects.exists()


def test_kill_all_ends_every_session_of_the_app_and_no_other(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    response = killer.post(
        "/apps/shop/kill/all/",
        {"confirm": " shop ", "window": "600", "q": ""},
        headers=htmx("sessions"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="sessions"')
    assert "3 sessions ended" in html
    assert "0 sessions active in the last 10 min" in html
    assert response["HX-Trigger"] == '{"sessions-changed": {}}'
    assert store.app_stats(apps=["shop", "blog"])[0]["sessions"] == 0
    assert alive(store, "blog", "u1") == 1
    entry = KillAudit.objects.get()
    assert (entry.action, entry.app, entry.user_id, entry.count) == ("killall", "shop", "", 3)


def test_kill_all_without_javascript_redirects_to_the_app_page(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    response = killer.post("/apps/shop/kill/all/", {"confirm": "shop"}, follow=True)
    assert response.redirect_chain == [("/apps/shop/", 302)]
    assert "3 sessions ended" in response.content.decode()


def test_every_kill_is_audited_with_operator_time_and_handle_newest_first(
    killer: Client, store: RedisSessions, tokens: list[str]
) -> None:
    handle = handle_of(store, tokens[2])
    killer.post("/apps/shop/kill/session/", {"id": "u2", "handle": handle})
    killer.post("/apps/blog/kill/user/", {"id": "u1", "confirm": "yes"})
    killer.post("/apps/shop/kill/all/", {"confirm": "shop"})
    entries = list(KillAudit.objects.all())
    assert [(e.action, e.app, e.count) for e in entries] == [
        ("killall", "shop", 2),
        ("killsoid", "blog", 1),
        ("kill", "shop", 1),
    ]
    assert entries[2].session_handle == handle
    assert all(e.operator is not None and e.operator.username == "killer" for e in entries)
    html = killer.get("/audit/").content.decode()
    assert html.count('data-testid="audit-row"') == 3
    assert f"<code>{handle}</code>" in html


def test_no_token_appears_in_any_page_fragment_message_or_log(
    killer: Client, store: RedisSessions, tokens: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses = [
        killer.get("/"),
        killer.get("/apps/shop/"),
        killer.get("/apps/shop/", headers=htmx("sessions")),
        killer.get("/apps/shop/user/", {"id": "u1"}),
        killer.post(
            "/apps/shop/kill/session/",
            {"id": "u1", "handle": handle_of(store, tokens[0])},
            headers=htmx("sessions"),
        ),
        killer.post("/apps/shop/kill/user/", {"id": "u2", "confirm": "yes"}, follow=True),
        killer.get("/audit/"),
    ]
    seen = "".join(r.content.decode() + str(r.headers) for r in responses) + caplog.text
    assert "kill" in caplog.text  # the kills were logged...
    for token in tokens:
        assert token not in seen  # ...but no token anywhere
        assert token[:16] not in seen
