"""An app's sessions (its window, or a search) as a streamed CSV: handles, never tokens,
cells safe in a spreadsheet, paged through Redis at any size."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from dashboard import pages
from sessions_core import RedisSessions


def rows_of(response: object) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


def test_the_window_exports_every_session_with_handles_not_tokens(
    viewer: Client, store: RedisSessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "EXPORT_CHUNK", 7)  # 20 sessions: 3 reads while streaming
    made = store.create_many(
        app="shop", sessions=[{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(20)]
    )
    store.set(app="shop", token=made[0]["token"], d={"plan": "pro"})
    response = viewer.get("/apps/shop/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert 'filename="shop-sessions.csv"' in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    header, *rows = rows_of(response)
    assert header == pages.EXPORT_HEADER
    assert sorted(row[0] for row in rows) == sorted(f"u{i}" for i in range(20))
    handles = {store.handle(app="shop", token=t["token"]) for t in made}
    assert {row[8] for row in rows} == handles
    body = "\n".join(",".join(row) for row in rows)
    assert all(t["token"] not in body for t in made)
    assert [row[6] for row in rows if row[0] == "u0"] == ["plan"]


def test_a_search_exports_what_the_table_shows(viewer: Client, store: RedisSessions) -> None:
    for id, ip in (("ann", "10.0.0.1"), ("anna", "10.0.0.2"), ("bob", "192.168.0.1")):
        store.create(app="shop", id=id, ip=ip)
    by_prefix = rows_of(viewer.get("/apps/shop/export.csv", {"q": "an", "match": "prefix"}))
    assert sorted(row[0] for row in by_prefix[1:]) == ["ann", "anna"]
    by_ip = rows_of(viewer.get("/apps/shop/export.csv", {"ip": "192.168.*"}))
    assert [row[0] for row in by_ip[1:]] == ["bob"]
    by_id = rows_of(viewer.get("/apps/shop/export.csv", {"q": "anna"}))
    assert [row[0] for row in by_id[1:]] == ["anna"]


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(
    viewer: Client, store: RedisSessions
) -> None:
    store.create(app="shop", id='=HYPERLINK("x")', ip="+1", d={"@key": 1})
    (row,) = rows_of(viewer.get("/apps/shop/export.csv"))[1:]
    assert row[0] == '\'=HYPERLINK("x")' and row[1] == "'+1" and row[6] == "'@key"


def test_the_table_links_to_its_own_export(viewer: Client, store: RedisSessions) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    html = viewer.get("/apps/shop/", {"window": "86400", "q": "u", "match": "prefix"}).content
    assert b'href="/apps/shop/export.csv?window=86400&amp;q=u&amp;match=prefix"' in html


def test_unknown_apps_bad_queries_and_permissions(
    viewer: Client, store: RedisSessions, client: Client
) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    assert viewer.get("/apps/nosuch/export.csv").status_code == 404
    assert viewer.get("/apps/shop/export.csv", {"window": "5"}).status_code == 400
    assert client.get("/apps/shop/export.csv").status_code == 302  # to the login page
