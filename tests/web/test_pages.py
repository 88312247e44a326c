"""Every page and fragment, with real data in a real Redis."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import redis
from django.test import Client

from dashboard.models import KillAudit
from sessions_core import RedisSessions
from tests.web.conftest import HTMX, htmx


def cell(html: str, testid: str, within: str = "") -> str:
    """The text of the first element with `data-testid`, after the marker `within`."""
    start = html.index(within) if within else 0
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html[start:])
    assert match, f"no {testid} after {within!r}"
    return match.group(1).strip()


def text(response: object) -> str:
    """The page's HTML without the <bdi> isolation around ids and data (tested on its own in
    test_hostile), so assertions read the values themselves."""
    html: str = response.content.decode()  # type: ignore[attr-defined]
    return html.replace("<bdi>", "").replace("</bdi>", "")


# -- apps page ---------------------------------------------------------------------------------


def test_apps_page_lists_every_app_with_sessions_users_and_active_counts(
    viewer: Client, store: RedisSessions, age: Callable[..., None]
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    store.create(app="shop", id="u1", ip="10.0.0.2")
    old = store.create(app="shop", id="u2", ip="10.0.0.3", ttl=86400 * 2)["token"]
    age("shop", old, 7200)
    store.create(app="blog", id="b1", ip="10.0.0.4")
    html = text(viewer.get("/"))
    row = 'data-app="shop"'
    assert cell(html, "count-sessions", row) == "3"
    assert cell(html, "count-users", row) == "2"
    assert cell(html, "count-active-60", row) == "1"
    assert cell(html, "count-active-3600", row) == "1"
    assert cell(html, "count-active-86400", row) == "2"
    assert cell(html, "count-sessions", 'data-app="blog"') == "1"
    assert html.index('data-app="blog"') < html.index('data-app="shop"')
    assert 'href="/apps/shop/"' in html


def test_apps_page_shows_apps_that_only_a_node_app_created(
    viewer: Client, store: RedisSessions, r: redis.Redis
) -> None:
    store.create(app="nodeapp", id="n1", ip="10.0.0.1")
    r.delete(store.keys.apps_registry)  # as if the Node library had written the session
    assert 'data-app="nodeapp"' in text(viewer.get("/"))


def test_apps_page_says_so_when_there_are_no_apps(viewer: Client) -> None:
    assert "No apps yet" in text(viewer.get("/"))


def test_apps_page_polls_its_table_with_a_pause_switch(viewer: Client) -> None:
    html = text(viewer.get("/"))
    assert 'data-testid="pause-switch"' in html
    assert 'hx-trigger="every 5s" data-paused-by="live-pause"' in html
    assert "/static/django_htmx/htmx-2.min.js" in html


def test_apps_table_fragment_is_only_the_table_and_clears_the_banner(
    viewer: Client, store: RedisSessions
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    response = viewer.get("/", headers=htmx("apps-table"))
    html = text(response)
    assert html.lstrip().startswith('<section id="apps-table"')
    assert "<html" not in html
    assert 'id="unavailable"' in html and 'hx-swap-oob="true"' in html
    assert cell(html, "count-sessions", 'data-app="shop"') == "1"
    assert "HX-Request" in response["Vary"]
    assert "no-store" in response["Cache-Control"]
    assert "no-store" in viewer.get("/apps/shop/user/?id=u1")["Cache-Control"]


def test_htmx_requests_for_other_targets_and_history_restores_get_the_full_page(
    viewer: Client,
) -> None:
    assert "<html" in text(viewer.get("/", headers=htmx("somewhere-else")))
    assert "<html" in text(viewer.get("/", headers=HTMX))
    restore = htmx("apps-table", **{"HX-History-Restore-Request": "true"})
    assert "<html" in text(viewer.get("/", headers=restore))


def test_apps_page_shows_the_last_wipe_pass(
    viewer: Client, store: RedisSessions, age: Callable[..., None]
) -> None:
    assert "No wipe pass has run yet" in text(viewer.get("/"))
    token = store.create(app="shop", id="u1", ip="10.0.0.1", ttl=10)["token"]
    store.create(app="shop", id="u2", ip="10.0.0.1")
    age("shop", token, 60)
    store.wipe_pass()
    html = text(viewer.get("/"))
    paragraph = re.search(r'data-testid="last-wipe">(.*?)</p>', html, re.S)
    assert paragraph
    wipe = " ".join(re.sub(r"<[^>]+>", "", paragraph.group(1)).split())
    assert "Last wipe pass" in wipe
    assert "removed 1 timed-out session (shop: 1)" in wipe
    assert "1 session left" in wipe


# -- app page ----------------------------------------------------------------------------------


def test_app_page_shows_live_counts_and_an_activity_chart(
    viewer: Client, store: RedisSessions, age: Callable[..., None]
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    for id, seconds in [("u2", 1800), ("u3", 3 * 3600 + 60), ("u4", 3 * 3600 + 120)]:
        token = store.create(app="shop", id=id, ip="10.0.0.1", ttl=86400)["token"]
        age("shop", token, seconds)
    html = text(viewer.get("/apps/shop/"))
    assert cell(html, "count-sessions") == "4"
    assert cell(html, "count-active-60") == "1"
    assert cell(html, "count-active-3600") == "2"
    assert cell(html, "count-active-86400") == "4"
    counts = [int(c) for c in re.findall(r'<rect [^>]*data-count="(\d+)"', html)]
    assert len(counts) == 24
    assert counts[-1] == 2  # the last hour, on the right
    assert counts[-4] == 2  # three to four hours ago
    assert sum(counts) == 4
    assert "4 users active in the last 24 h" in html


def test_app_page_of_an_app_without_sessions_shows_zeros(
    viewer: Client, store: RedisSessions
) -> None:
    store.create(app="quiet", id="u1", ip="10.0.0.1")
    store.killall(app="quiet")  # the app stays known (registered), now empty
    html = text(viewer.get("/apps/quiet/"))
    assert cell(html, "count-sessions") == "0"
    assert "No sessions active in the last 1 h" in html


@pytest.mark.parametrize("name", ["ab", "a" * 21, "bad.app", "sp ace"])
def test_app_names_sessions_core_refuses_are_404(viewer: Client, name: str) -> None:
    assert viewer.get(f"/apps/{name}/").status_code == 404


def test_live_fragment_holds_counts_and_chart_only(viewer: Client, store: RedisSessions) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    html = text(viewer.get("/apps/shop/", headers=htmx("live")))
    assert html.lstrip().startswith('<section id="live"')
    assert 'data-testid="activity-chart"' in html
    assert 'data-testid="session-row"' not in html
    assert "sessions-changed from:body" in html


def test_sessions_table_lists_newest_first_with_every_column(
    viewer: Client, store: RedisSessions, age: Callable[..., None]
) -> None:
    old = store.create(app="shop", id="old", ip="10.0.0.1", ttl=3600)["token"]
    age("shop", old, 600)
    store.create(app="shop", id="new", ip="10.9.9.9", d={"cart": 3, "lang": "fr"})
    html = text(viewer.get("/apps/shop/", headers=htmx("sessions")))
    assert html.lstrip().startswith('<section id="sessions"')
    assert html.index(">new</a>") < html.index(">old</a>")
    assert 'href="/apps/shop/user/?id=new"' in html
    assert "10.9.9.9" in html
    assert "cart, lang" in html
    # Time left of the older one: 3000 s, or 2999 s when the server's clock ticked between
    # the ageing and the page (a loaded machine).
    assert re.search(r'<span title="(3000|2999) s">(50|49) min</span>', html)
    assert ">10 min ago</time>" in html
    assert html.count('data-testid="kill-session"') == 2
    assert cell(html, "sessions-total") == "2 sessions active in the last 1 h."


def test_sessions_table_window_selects_how_recent_sessions_must_be(
    viewer: Client, store: RedisSessions, age: Callable[..., None]
) -> None:
    store.create(app="shop", id="recent", ip="10.0.0.1")
    idle = store.create(app="shop", id="idle", ip="10.0.0.1", ttl=86400)["token"]
    age("shop", idle, 900)
    assert ">idle</a>" not in text(viewer.get("/apps/shop/?window=600"))
    html = text(viewer.get("/apps/shop/?window=3600"))
    assert ">idle</a>" in html and ">recent</a>" in html
    assert '<option value="3600" selected>' in text(viewer.get("/apps/shop/"))
    assert '<option value="2592000" selected>' in text(viewer.get("/apps/shop/?window=2592000"))


def test_sessions_table_search_finds_one_user_id_exactly(
    viewer: Client, store: RedisSessions
) -> None:
    store.create(app="shop", id="alice", ip="10.0.0.1")
    store.create(app="shop", id="alice", ip="10.0.0.2")
    store.create(app="shop", id="alicia", ip="10.0.0.3")
    html = text(viewer.get("/apps/shop/", {"q": "alice"}, headers=htmx("sessions")))
    assert html.count('data-testid="session-row"') == 2
    assert ">alicia</a>" not in html
    assert "for user id <q>alice</q>" in html
    assert "No sessions" in text(viewer.get("/apps/shop/", {"q": "nobody"}))


def test_sessions_table_pages_through_many_sessions(viewer: Client, store: RedisSessions) -> None:
    store.create_many(
        app="shop", sessions=[{"id": f"user{i:03}", "ip": "10.0.0.1"} for i in range(120)]
    )
    first = text(viewer.get("/apps/shop/"))
    assert first.count('data-testid="session-row"') == 50
    assert cell(first, "page-number") == "Page 1 of 3"
    assert 'data-testid="page-prev"' not in first
    assert 'href="/apps/shop/?page=2" hx-get="/apps/shop/?page=2"' in first
    response = viewer.get("/apps/shop/?page=2&q=", headers=htmx("sessions"))
    assert response["HX-Push-Url"] == "/apps/shop/?page=2"
    second = text(response)
    assert second.count('data-testid="session-row"') == 50
    assert 'href="/apps/shop/"' in second  # newer: page 1 with defaults left out
    last = text(viewer.get("/apps/shop/?page=3&window=86400"))
    assert last.count('data-testid="session-row"') == 20
    assert 'data-testid="page-next"' not in last
    assert 'href="/apps/shop/?window=86400&amp;page=2"' in last
    ids = set(re.findall(r">(user\d{3})</a>", first + second + last))
    assert len(ids) == 120


def test_a_page_past_the_end_shows_the_last_page(viewer: Client, store: RedisSessions) -> None:
    store.create_many(app="shop", sessions=[{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(60)])
    html = text(viewer.get("/apps/shop/?page=9"))
    assert cell(html, "page-number") == "Page 2 of 2"
    assert html.count('data-testid="session-row"') == 10


@pytest.mark.parametrize(
    "query", ["window=5", "window=abc", "page=0", "page=-1", "page=x", "q=" + "x" * 129]
)
def test_bad_table_queries_are_400_with_the_reason(viewer: Client, query: str) -> None:
    response = viewer.get(f"/apps/shop/?{query}")
    assert response.status_code == 400
    assert 'data-testid="problem-detail"' in text(response)


def test_bad_table_query_from_htmx_answers_with_a_message(viewer: Client) -> None:
    response = viewer.get("/apps/shop/?window=5", headers=htmx("sessions"))
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#messages"
    assert "window: Select a valid choice" in text(response)


# -- user page ---------------------------------------------------------------------------------


def test_user_page_shows_every_session_of_the_id_with_its_data(
    viewer: Client, store: RedisSessions
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1", d={"plan": "pro", "n": 12.5, "ok": True})
    store.create(app="shop", id="u1", ip="2001:db8::1", ttl=600, no_resave=True)
    store.create(app="shop", id="u2", ip="10.0.0.9")
    store.create(app="blog", id="u1", ip="10.0.0.8")
    html = text(viewer.get("/apps/shop/user/", {"id": "u1"}))
    assert html.count('data-testid="session-row"') == 2
    assert "10.0.0.9" not in html and "10.0.0.8" not in html
    assert "2001:db8::1" in html
    assert re.search(r'data-testid="no-resave">yes<', html)
    assert re.search(r'data-testid="no-resave">no<', html)
    assert '<th scope="row">plan</th><td>pro</td>' in html
    assert '<th scope="row">n</th><td>12.5</td>' in html
    assert '<th scope="row">ok</th><td>true</td>' in html
    assert "TTL left" in html  # the no_resave session's ttl is what is left
    assert 'data-testid="killsoid-button"' in html
    assert cell(html, "sessions-total") == "2 live sessions in shop."


def test_user_page_of_an_unknown_id_says_there_are_no_sessions(
    viewer: Client, store: RedisSessions
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    html = text(viewer.get("/apps/shop/user/", {"id": "ghost"}))
    assert "No live sessions for this id." in html
    assert 'data-testid="killsoid-button"' not in html


def test_user_sessions_fragment(viewer: Client, store: RedisSessions) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    html = text(viewer.get("/apps/shop/user/", {"id": "u1"}, headers=htmx("user-sessions")))
    assert html.lstrip().startswith('<section id="user-sessions"')
    assert "<html" not in html


def test_user_page_pages_through_an_id_with_many_sessions(
    viewer: Client, store: RedisSessions
) -> None:
    store.create_many(
        app="shop", sessions=[{"id": "a/b:c", "ip": f"10.0.1.{i}"} for i in range(60)]
    )
    first = text(viewer.get("/apps/shop/user/", {"id": "a/b:c"}))
    assert first.count('data-testid="session-row"') == 50
    assert cell(first, "sessions-total") == "60 live sessions in shop."
    assert cell(first, "page-number") == "Page 1 of 2"
    assert "end 60 sessions of this user" in first  # log out everywhere ends all pages
    assert 'href="/apps/shop/user/?id=a%2Fb%3Ac&amp;page=2"' in first
    response = viewer.get(
        "/apps/shop/user/", {"id": "a/b:c", "page": "2"}, headers=htmx("user-sessions")
    )
    assert response["HX-Push-Url"] == "/apps/shop/user/?id=a%2Fb%3Ac&page=2"
    second = text(response)
    assert second.count('data-testid="session-row"') == 10
    assert 'href="/apps/shop/user/?id=a%2Fb%3Ac"' in second  # newer: page 1
    assert second.count('<input type="hidden" name="page" value="2">') == 10  # kills stay here
    ips = set(re.findall(r"<dd>(10\.0\.1\.\d+)</dd>", first + second))
    assert len(ips) == 60
    past = text(viewer.get("/apps/shop/user/", {"id": "a/b:c", "page": "7"}))
    assert cell(past, "page-number") == "Page 2 of 2"
    assert viewer.get("/apps/shop/user/", {"id": "a/b:c", "page": "0"}).status_code == 400


def test_sessions_table_search_pages_through_an_id_with_many_sessions(
    viewer: Client, store: RedisSessions
) -> None:
    store.create_many(app="shop", sessions=[{"id": "bot", "ip": "10.0.0.1"} for i in range(55)])
    store.create(app="shop", id="human", ip="10.0.0.2")
    html = text(viewer.get("/apps/shop/", {"q": "bot", "page": "2"}))
    assert html.count('data-testid="session-row"') == 5
    assert cell(html, "page-number") == "Page 2 of 2"
    assert 'data-total="55"' in html


@pytest.mark.parametrize("query", ["", "?id=", "?id=" + "x" * 129, "?id=a%0Ab"])
def test_user_page_without_a_valid_id_is_400(
    viewer: Client, store: RedisSessions, query: str
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    response = viewer.get(f"/apps/shop/user/{query}")
    assert response.status_code == 400
    assert 'data-testid="problem-detail"' in text(response)


# -- audit page and healthz --------------------------------------------------------------------


def test_audit_page_lists_kills_newest_first_and_pages(viewer: Client, db: None) -> None:
    KillAudit.objects.bulk_create(
        KillAudit(operator_name="op", action="killsoid", app="shop", user_id=f"u{i}", count=i)
        for i in range(60)
    )
    html = text(viewer.get("/audit/"))
    assert html.count('data-testid="audit-row"') == 50
    assert cell(html, "audit-total") == "60 kills recorded."
    assert html.index(">u59</a>") < html.index(">u58</a>")
    assert "log out everywhere" in html
    older = text(viewer.get("/audit/?page=2", headers=htmx("audit-table")))
    assert older.lstrip().startswith('<section id="audit-table"')
    assert older.count('data-testid="audit-row"') == 10
    assert ">u0</a>" in older
    assert "Page 2 of 2" in older


def test_audit_page_of_nothing(viewer: Client) -> None:
    assert "No kills yet." in text(viewer.get("/audit/"))


def test_healthz_reports_redis_and_its_round_trip_only(
    client: Client, store: RedisSessions
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"status", "redis"}
    assert body["status"] == "ok"
    assert set(body["redis"]) == {"ok", "rtt_ms"}
    assert body["redis"]["ok"] is True
    assert 0 <= body["redis"]["rtt_ms"] < 5000
    assert "no-cache" in response["Cache-Control"]


def test_pages_refuse_post(viewer: Client) -> None:
    response = viewer.post("/apps/shop/")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert "This address answers GET only." in text(response)


def test_sessions_table_search_by_prefix_lists_every_matching_id(
    viewer: Client, store: RedisSessions
) -> None:
    for id in ("ann", "anna", "an/x", "bob"):
        store.create(app="shop", id=id, ip="10.0.0.1")
    response = viewer.get("/apps/shop/", {"q": "an", "match": "prefix"}, headers=htmx("sessions"))
    html = text(response)
    assert {row["session"]["id"] for row in response.context["rows"]} == {"ann", "anna", "an/x"}
    assert "for user ids starting with <q>an</q>" in html
    assert 'data-testid="search-incomplete"' not in html
    assert "match=prefix" in response["HX-Push-Url"]
    exact = viewer.get("/apps/shop/", {"q": "an"}, headers=htmx("sessions"))
    assert exact.context["rows"] == []


def test_a_prefix_search_that_stopped_early_says_so(viewer: Client, store: RedisSessions) -> None:
    store.create_many(app="shop", sessions=[{"id": f"bot{i}", "ip": "1"} for i in range(60)])
    html = text(viewer.get("/apps/shop/", {"q": "bot", "match": "prefix"}))
    assert 'data-testid="search-incomplete"' in html
    assert viewer.get("/apps/shop/", {"q": "bot", "match": "fuzzy"}).status_code == 400


def test_sessions_table_filters_by_ip_exact_or_by_prefix(
    viewer: Client, store: RedisSessions
) -> None:
    for i, ip in enumerate(("10.0.0.1", "10.0.0.12", "192.168.1.1")):
        store.create(app="shop", id=f"u{i}", ip=ip)
    exact = viewer.get("/apps/shop/", {"ip": "10.0.0.1"}, headers=htmx("sessions"))
    assert [row["session"]["ip"] for row in exact.context["rows"]] == ["10.0.0.1"]
    assert "from IP <q>10.0.0.1</q>" in text(exact)
    prefixed = viewer.get("/apps/shop/", {"ip": "10.0.*"}, headers=htmx("sessions"))
    assert sorted(row["session"]["ip"] for row in prefixed.context["rows"]) == [
        "10.0.0.1",
        "10.0.0.12",
    ]
    assert "ip=10.0." in prefixed["HX-Push-Url"]
    both = viewer.get("/apps/shop/", {"ip": "10.0.*", "q": "u1"})
    assert both.status_code == 400
    assert "not both" in text(both)


def test_the_apps_table_sorts_by_any_column_and_has_a_totals_row(
    viewer: Client, store: RedisSessions
) -> None:
    for app, n in (("alpha", 1), ("bravo", 3), ("charlie", 2)):
        store.create_many(app=app, sessions=[{"id": f"u{i}", "ip": "1"} for i in range(n)])

    def order(**query: str) -> list[str]:
        html = text(viewer.get("/", query, headers=htmx("apps-table")))
        return re.findall(r'data-testid="app-row" data-app="([^"]+)"', html)

    assert order() == ["alpha", "bravo", "charlie"]
    assert order(sort="app", order="desc") == ["charlie", "bravo", "alpha"]
    assert order(sort="sessions", order="desc") == ["bravo", "charlie", "alpha"]
    assert order(sort="active-60", order="asc") == ["alpha", "charlie", "bravo"]
    html = text(viewer.get("/", {"sort": "users", "order": "desc"}))
    assert 'aria-sort="descending"' in html
    assert 'hx-get="/?sort=users&amp;order=desc"' in html  # the poll keeps the order
    assert 'data-testid="total-sessions">6<' in html
    assert viewer.get("/", {"sort": "nope"}).status_code == 400


def test_the_sessions_table_lists_oldest_first_on_request(
    viewer: Client, store: RedisSessions, age: Callable[..., None]
) -> None:
    for i in range(3):
        age("shop", store.create(app="shop", id=f"u{i}", ip="1")["token"], 100 * i)
    newest = viewer.get("/apps/shop/", headers=htmx("sessions"))
    oldest = viewer.get("/apps/shop/", {"order": "oldest"}, headers=htmx("sessions"))
    assert [r["session"]["id"] for r in newest.context["rows"]] == ["u0", "u1", "u2"]
    assert [r["session"]["id"] for r in oldest.context["rows"]] == ["u2", "u1", "u0"]
    assert "order=oldest" in oldest["HX-Push-Url"]
    assert 'name="order" value="oldest"' in text(oldest)  # kills come back to this order


def test_the_apps_page_shows_the_redis_server(viewer: Client, store: RedisSessions) -> None:
    store.create(app="shop", id="u1", ip="1")
    response = viewer.get("/")
    server = response.context["server"]
    assert server["version"].count(".") == 2 and server["connected_clients"] >= 1
    assert server["used_memory"] > 0
    assert f"Redis {server['version']}:" in text(response)


def test_page_one_of_the_window_refreshes_itself_deeper_pages_and_searches_stay_put(
    viewer: Client, store: RedisSessions
) -> None:
    store.create_many(app="shop", sessions=[{"id": f"u{i}", "ip": "1"} for i in range(60)])
    first = text(viewer.get("/apps/shop/"))
    assert 'data-testid="live-table"' in first and 'hx-trigger="every 5s"' in first
    assert 'data-testid="live-table"' not in text(viewer.get("/apps/shop/", {"page": "2"}))
    assert 'data-testid="live-table"' not in text(viewer.get("/apps/shop/", {"q": "u1"}))
    poll = viewer.get("/apps/shop/", headers=htmx("sessions", **{"HX-Trigger": "sessions"}))
    assert poll.status_code == 200 and "HX-Push-Url" not in poll
    chosen = viewer.get("/apps/shop/", headers=htmx("sessions", **{"HX-Trigger": "filters"}))
    assert "HX-Push-Url" in chosen
