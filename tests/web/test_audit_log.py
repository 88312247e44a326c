"""The audit log: filters, paging that keeps them, and the CSV export of what they match."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from dashboard.audit import AuditFilter
from dashboard.models import KillAudit
from sessions_core import RedisSessions
from tests.web.conftest import client_for, htmx
from tests.web.test_content_security_policy import DIRECTIVES, Inline, policy

UTC = dt.UTC


def entry(at: dt.datetime | None = None, **fields: Any) -> KillAudit:
    """An audit entry; `at` is set after the insert, since the field is filled on create."""
    values = {"operator_name": "alice", "action": "kill", "app": "shop", "count": 1} | fields
    row = KillAudit.objects.create(**values)
    if at is not None:
        KillAudit.objects.filter(pk=row.pk).update(at=at)
    return row


def many(n: int, **fields: Any) -> None:
    values = {"operator_name": "alice", "action": "kill", "app": "shop", "count": 1} | fields
    KillAudit.objects.bulk_create(KillAudit(**values) for _ in range(n))


def rows(html: str) -> int:
    return html.count('data-testid="audit-row"')


def total(html: str) -> str:
    match = re.search(r'data-testid="audit-total">([^<]*)<', html)
    assert match
    return match.group(1)


def streamed(response: Any) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(streamed(response), newline="")))


@pytest.fixture
def log(db: None) -> None:
    """Kills by two operators on two apps over three days."""
    entry(dt.datetime(2026, 3, 1, 9, tzinfo=UTC), user_id="u1", session_handle="aa11")
    entry(dt.datetime(2026, 3, 2, 23, 59, tzinfo=UTC), action="killsoid", user_id="u2", count=3)
    entry(dt.datetime(2026, 3, 3, 0, 0, tzinfo=UTC), operator_name="bob", app="blog", user_id="u1")
    entry(dt.datetime(2026, 3, 3, 12, tzinfo=UTC), operator_name="bob", action="killall", count=9)


# -- filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 4),
        ("operator=bob", 2),
        ("operator=bo", 0),  # exact, not a substring
        ("app=blog", 1),
        ("action=killsoid", 1),
        ("action=killall&operator=bob", 1),
        ("user_id=u1", 2),
        ("user_id=u1&app=shop", 1),
        ("since=2026-03-02", 3),
        ("until=2026-03-02", 2),  # the whole last day is included, up to 23:59
        ("since=2026-03-02&until=2026-03-02", 1),
        ("since=2026-03-03&until=2026-03-03&operator=bob", 2),
        ("operator=&app=&action=&user_id=&since=&until=", 4),  # an empty form filters nothing
    ],
)
def test_each_filter_narrows_the_log(viewer: Client, log: None, query: str, expected: int) -> None:
    html = viewer.get(f"/audit/?{query}").content.decode()
    assert rows(html) == expected


def test_the_form_shows_the_filters_in_use_and_says_what_matched(viewer: Client, log: None) -> None:
    html = viewer.get("/audit/?operator=bob&action=killall&since=2026-03-01").content.decode()
    assert 'name="operator" value="bob"' in html
    assert '<option value="killall" selected>' in html
    assert 'name="since" value="2026-03-01"' in html
    assert total(html) == "1 kill matches these filters."
    html = viewer.get("/audit/?operator=bob").content.decode()
    assert total(html) == "2 kills match these filters."
    assert total(viewer.get("/audit/").content.decode()) == "4 kills recorded."


def test_dates_are_whole_days_in_the_dashboards_time_zone(
    viewer: Client, log: None, settings: Any
) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"  # UTC+9: 2026-03-02 23:59 UTC is 3 March in Tokyo
    html = viewer.get("/audit/?since=2026-03-03&until=2026-03-03").content.decode()
    assert rows(html) == 3


def test_a_filter_that_matches_nothing_says_so(viewer: Client, log: None) -> None:
    html = viewer.get("/audit/?user_id=nobody").content.decode()
    assert "No kills match these filters." in html
    assert total(html) == "0 kills match these filters."
    assert 'data-testid="audit-export"' not in html


@pytest.mark.parametrize(
    "query",
    ["since=2026-03-03&until=2026-03-01", "action=nuke", "since=yesterday", "app=" + "a" * 21],
)
def test_bad_filters_are_a_400_naming_the_problem(viewer: Client, db: None, query: str) -> None:
    response = viewer.get(f"/audit/?{query}")
    assert response.status_code == 400
    assert 'data-testid="problem-detail"' in response.content.decode()
    assert viewer.get(f"/audit/export.csv?{query}").status_code == 400


def test_a_bad_filter_sent_by_htmx_is_a_message(viewer: Client, db: None) -> None:
    response = viewer.get("/audit/?since=2026-03-03&until=2026-03-01", headers=htmx("audit-table"))
    assert response.status_code == 422
    assert "The end date is before the start date." in response.content.decode()


def test_the_filter_form_works_without_javascript_and_with_htmx(viewer: Client, db: None) -> None:
    html = viewer.get("/audit/").content.decode()
    form = re.search(r'<form id="audit-filters"[^>]*>', html)
    assert form
    assert 'method="get" action="/audit/"' in form.group(0)
    assert 'hx-get="/audit/" hx-target="#audit-table"' in form.group(0)


def test_the_htmx_answer_is_the_table_and_the_address_bar_follows_the_filters(
    viewer: Client, log: None
) -> None:
    response = viewer.get(
        "/audit/?operator=bob&app=&action=&user_id=&since=&until=", headers=htmx("audit-table")
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="audit-table"')
    assert rows(html) == 2
    assert response["HX-Push-Url"] == "/audit/?operator=bob"


# -- paging ------------------------------------------------------------------------------------


def test_paging_keeps_the_filters(viewer: Client, db: None) -> None:
    many(70, operator_name="bob", app="blog")
    many(30, operator_name="alice")
    html = viewer.get("/audit/?operator=bob").content.decode()
    assert rows(html) == 50
    assert total(html) == "70 kills match these filters."
    assert 'href="/audit/?operator=bob&amp;page=2"' in html
    assert "Page 1 of 2" in html

    response = viewer.get("/audit/?operator=bob&page=2", headers=htmx("audit-table"))
    older = response.content.decode()
    assert rows(older) == 20
    assert "alice" not in older
    assert "Page 2 of 2" in older
    assert 'href="/audit/?operator=bob"' in older  # back to page 1: no page=1 in the address
    assert response["HX-Push-Url"] == "/audit/?operator=bob&page=2"


def test_a_page_past_the_end_shows_the_last_page(viewer: Client, db: None) -> None:
    many(60)
    html = viewer.get("/audit/?page=9&app=shop").content.decode()
    assert "Page 2 of 2" in html
    assert rows(html) == 10
    assert rows(viewer.get("/audit/?page=abc").content.decode()) == 50


def test_the_export_link_carries_the_filters(viewer: Client, log: None) -> None:
    html = viewer.get("/audit/?operator=bob&since=2026-03-03&page=1").content.decode()
    assert 'href="/audit/export.csv?operator=bob&amp;since=2026-03-03" download' in html
    assert "Export CSV (2 rows)" in html


def test_one_page_costs_the_same_queries_however_many_rows_it_shows(
    viewer: Client, db: None, django_assert_num_queries: Callable[..., Any]
) -> None:
    many(3)
    # The login's session, user and two permission queries; then the count and the rows.
    with django_assert_num_queries(6) as few:
        viewer.get("/audit/?app=shop")
    many(100, operator_name="carol")
    with django_assert_num_queries(6) as full:
        html = viewer.get("/audit/").content.decode()
    assert rows(html) == 50
    assert len(few.captured_queries) == len(full.captured_queries)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
@pytest.mark.parametrize(
    ("query", "index"),
    [
        ({"operator": "bob"}, "killaudit_operator_at"),
        ({"app": "shop"}, "killaudit_app_at"),
        ({"user_id": "u1", "since": "2026-03-01"}, "killaudit_user_id_at"),
    ],
)
def test_text_filters_use_their_index(db: None, query: dict[str, str], index: str) -> None:
    form = AuditFilter(query)
    assert form.is_valid()
    assert index in form.rows().explain()


# -- CSV export --------------------------------------------------------------------------------


def test_the_export_streams_every_filtered_row_not_one_page(viewer: Client, db: None) -> None:
    many(2100, operator_name="bob", app="blog", user_id="u7", session_handle="ab12", count=2)
    many(5, operator_name="alice")
    response = viewer.get("/audit/export.csv?operator=bob")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert re.fullmatch(
        r'attachment; filename="audit-log-\d{8}-\d{6}\.csv"', response["Content-Disposition"]
    )
    assert "no-store" in response["Cache-Control"]
    header, *body = csv_rows(response)
    assert header == [
        "at_utc",
        "operator",
        "action",
        "app",
        "user_id",
        "session_handle",
        "ended",
        "interrupted",
    ]
    assert len(body) == 2100
    assert body[0][1:] == ["bob", "kill", "blog", "u7", "ab12", "2", "no"]
    assert dt.datetime.fromisoformat(body[0][0]).utcoffset() == dt.timedelta(0)


def test_the_export_is_newest_first_with_exact_times_in_utc(viewer: Client, log: None) -> None:
    _, *body = csv_rows(viewer.get("/audit/export.csv?user_id=u1"))
    assert [row[0] for row in body] == ["2026-03-03T00:00:00+00:00", "2026-03-01T09:00:00+00:00"]
    assert [row[3] for row in body] == ["blog", "shop"]


def test_the_export_marks_interrupted_kills(viewer: Client, db: None) -> None:
    entry(action="killall", count=1200, interrupted=True)
    _, row = csv_rows(viewer.get("/audit/export.csv"))
    assert row[2:] == ["killall", "shop", "", "", "1200", "yes"]


@pytest.mark.parametrize(
    ("stored", "cell"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\tcmd", "'\tcmd"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ('plain, with "quotes"\nand a line break', 'plain, with "quotes"\nand a line break'),
    ],
)
def test_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(
    viewer: Client, db: None, stored: str, cell: str
) -> None:
    entry(operator_name=stored, user_id=stored)
    _, row = csv_rows(viewer.get("/audit/export.csv"))
    assert row[1] == cell
    assert row[4] == cell


def test_the_export_holds_handles_never_tokens(killer: Client, store: RedisSessions) -> None:
    token = store.create(app="shop", id="u1", ip="10.0.0.1")["token"]
    other = store.create(app="shop", id="u2", ip="10.0.0.2")["token"]
    handle = store.handle(app="shop", token=token)
    killer.post("/apps/shop/kill/session/", {"id": "u1", "handle": handle})
    killer.post("/apps/shop/kill/user/", {"id": "u2", "confirm": "on"})
    killer.post("/apps/shop/kill/all/", {"confirm": "shop"})
    body = streamed(killer.get("/audit/export.csv"))
    assert token not in body and other not in body
    _, *data = csv.reader(io.StringIO(body, newline=""))
    assert [(row[2], row[4], row[5]) for row in data] == [
        ("killall", "", ""),
        ("killsoid", "u2", ""),
        ("kill", "u1", handle),
    ]


# -- who may see it ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 302), ("staff", 403), ("viewer", 200), ("killer", 200), ("superuser", 200)],
)
@pytest.mark.parametrize("url", ["/audit/?operator=bob", "/audit/export.csv?operator=bob"])
def test_the_audit_page_and_its_export_need_the_view_permission(
    make_user: Callable[..., User], db: None, role: str, status: int, url: str
) -> None:
    response = client_for(role, make_user).get(url)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/accounts/login/?next=")


def test_the_export_answers_get_only(viewer: Client, db: None) -> None:
    assert viewer.post("/audit/export.csv").status_code == 405


def test_the_filtered_page_keeps_the_strict_policy_and_nothing_inline(
    viewer: Client, log: None
) -> None:
    for headers in ({}, htmx("audit-table")):
        response = viewer.get("/audit/?operator=bob&since=2026-03-01", headers=headers)
        assert policy(response) == DIRECTIVES
        assert Inline(response.content.decode()).found == []
    assert policy(viewer.get("/audit/export.csv")) == DIRECTIVES
