"""What each page shows, read from the store. The only module of views that reads sessions."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from sessions_core import AppStats, CorruptData, SessionPage, SessionRow
from sessions_core.reads import ACTIVITY_WINDOWS
from sessions_core.validation import ID_MAX_LENGTH

from .charts import activity_chart
from .forms import DEFAULT_WINDOW, MATCHES, ORDERS, WINDOW_NAMES, WINDOWS
from .store import sessions
from .templatetags.dashboard import (
    data_items,
    data_keys,
    id_query,
    id_ref,
    iso,
    printable,
    user_url,
)

PAGE_SIZE = 50
LIVE_WINDOWS = [(w, WINDOW_NAMES[w]) for w in ACTIVITY_WINDOWS]


def apps_table(sort: str = "app", descending: bool = False) -> dict[str, Any]:
    """Every app with its counts (sorted by any column), their totals, and the last wipe."""
    store = sessions()
    stats = store.app_stats(apps=store.apps(), windows=[w for w, _ in LIVE_WINDOWS])
    readable = [s for s in stats if "problem" not in s]
    stats.sort(key=lambda s: s["app"])  # ties, and apps without counts, in name order
    if sort != "app":
        stats.sort(key=lambda s: _column(s, sort), reverse=descending)
    elif descending:
        stats.reverse()
    totals = {
        "sessions": sum(s["sessions"] for s in readable),
        "users": sum(s["users"] for s in readable),
        "active": {w: sum(s["active"][w] for s in readable) for w, _ in LIVE_WINDOWS},
    }
    columns = [("app", "App"), ("sessions", "Sessions"), ("users", "Users")]
    columns += [(f"active-{w}", f"Active {name}") for w, name in LIVE_WINDOWS]
    headers = [
        {
            "key": key,
            "label": label,
            "sorted": ("descending" if descending else "ascending") if key == sort else "none",
            # A click sorts by the column; on the sorted column, the other way round.
            "url": apps_url(key, not descending if key == sort else key != "app"),
        }
        for key, label in columns
    ]
    return {
        "stats": stats,
        "totals": totals,
        "headers": headers,
        "live_windows": LIVE_WINDOWS,
        "last_wipe": store.last_wipe(),
        "server": store.server_info(),
        "id_max_length": ID_MAX_LENGTH,
        "table_url": apps_url(sort, descending),
    }


def apps_url(sort: str, descending: bool) -> str:
    """The apps page in an order; the default (by name, A to Z) has no query string."""
    base = reverse("dashboard:apps")
    if sort == "app" and not descending:
        return base
    return f"{base}?{urlencode({'sort': sort, 'order': 'desc' if descending else 'asc'})}"


def _column(stats: AppStats, key: str) -> int:
    """A count column of one app (-1 for an app whose counts cannot be read)."""
    if "problem" in stats:
        return -1
    if key.startswith("active-"):
        return stats["active"][int(key.removeprefix("active-"))]
    return int(stats[key])  # type: ignore[literal-required]


def app_live(app: str) -> dict[str, Any]:
    """An app's live counts and its activity chart over 24 h."""
    store = sessions()
    (stats,) = store.app_stats(apps=[app], windows=[w for w, _ in LIVE_WINDOWS])
    try:
        histogram = store.activity_histogram(app=app, bucket=3600, buckets=24)
    except CorruptData:  # the stats carry the problem: no chart for an unreadable index
        histogram = [0] * 24
    return {
        "stats": stats,
        "live_windows": LIVE_WINDOWS,
        "chart": activity_chart(histogram),
    }


def table_url(
    app: str,
    *,
    window: int,
    page: int = 1,
    q: str = "",
    match: str = "exact",
    ip: str = "",
    order: str = "newest",
) -> str:
    """The app page with a table state; defaults are left out of the query string."""
    params: dict[str, str | int] = {}
    if window != DEFAULT_WINDOW:
        params["window"] = window
    if page > 1:
        params["page"] = page
    if q:
        params["q"] = q
        if match != "exact":
            params["match"] = match
    if ip:
        params["ip"] = ip
    if order != "newest":
        params["order"] = order
    base = reverse("dashboard:app", args=[app])
    return f"{base}?{urlencode(params)}" if params else base


def app_table(
    app: str,
    *,
    window: int,
    page: int,
    q: str,
    match: str = "exact",
    ip: str = "",
    order: str = "newest",
) -> dict[str, Any]:
    """One page of sessions active within `window`, or of the searched id's sessions."""

    def read(page: int) -> SessionPage:
        offset = (page - 1) * PAGE_SIZE
        return _table_read(app, window, q, match, ip, order, offset, PAGE_SIZE)

    result, page, pages = _paged(read, page)
    state: dict[str, Any] = {
        "window": window,
        "page": page,
        "q": q,
        "match": match,
        "ip": ip,
        "order": order,
    }
    return {
        **_row_links(app),
        "rows": _shown(result["rows"]),
        "total": result["total"],
        "problem": result.get("problem", ""),
        "state": state,
        "window_name": WINDOW_NAMES[window],
        "windows": WINDOWS,
        "id_max_length": ID_MAX_LENGTH,
        "page_number": page,
        "pages": pages,
        "live_table": page == 1 and not q and not ip,
        "matches": MATCHES,
        "orders": ORDERS,
        "export_query": table_url(app, **{**state, "page": 1}).partition("?")[2],
        "complete": result.get("complete", True),
        "table_url": table_url(app, **state),
        "prev_url": table_url(app, **{**state, "page": page - 1}) if page > 1 else None,
        "next_url": table_url(app, **{**state, "page": page + 1}) if page < pages else None,
    }


def user_table(app: str, id: str, page: int = 1) -> dict[str, Any]:
    """One page of an id's live sessions across devices, newest activity first."""
    store = sessions()

    def read(page: int) -> SessionPage:
        return store.user_page(app=app, id=id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)

    result, page, pages = _paged(read, page)
    return {
        **_row_links(app),
        "id": printable(id),
        "ref": id_ref(id),
        "rows": _shown(result["rows"]),
        "total": result["total"],
        "problem": result.get("problem", ""),
        "state": {"window": DEFAULT_WINDOW, "page": page, "q": ""},
        "page_number": page,
        "pages": pages,
        "table_url": user_url(app, id, page),
        "prev_url": user_url(app, id, page - 1) if page > 1 else None,
        "next_url": user_url(app, id, page + 1) if page < pages else None,
    }


EXPORT_CHUNK = 1000  # sessions read per Redis round trip while a CSV export streams
EXPORT_HEADER = [
    "user_id",
    "ip",
    "last_active_utc",
    "expires_in_s",
    "reads",
    "writes",
    "data_keys",
    "no_resave",
    "handle",
    "unreadable",
]


def export_rows(
    app: str, *, window: int, q: str, match: str, ip: str, order: str
) -> Iterator[list[object]]:
    """The sessions table's rows (its window or its search) for a CSV export, read in chunks
    of EXPORT_CHUNK as the download streams: memory stays flat at any size. Handles, never
    tokens. The window is read by rank, so sessions active during the export may shift."""
    for rows in _export_chunks(app, window, q, match, ip, order):
        for row in rows:
            session = row["session"]
            yield [
                printable(session["id"]),
                printable(session["ip"]),
                "" if "problem" in row else iso(row["last_activity"]),
                "" if "problem" in row else row["expires_in"],
                session["r"],
                session["w"],
                data_keys(session.get("d")),
                "yes" if session.get("no_resave") else "",
                row["handle"],
                row.get("problem", ""),
            ]


def _export_chunks(
    app: str, window: int, q: str, match: str, ip: str, order: str
) -> Iterator[list[SessionRow]]:
    """The rows of an export, EXPORT_CHUNK at a time: the window walked by the library (on
    a cluster a merge of the buckets, linear at any size), an id paged to its end, or a
    bounded search in one read."""
    if not ip and not q:
        oldest_first = order == "oldest"
        store = sessions()
        yield from store.soapp_chunks(
            app=app, delta_time=window, chunk=EXPORT_CHUNK, oldest_first=oldest_first
        )
        return
    offset = 0
    while True:
        result = _table_read(app, window, q, match, ip, order, offset, EXPORT_CHUNK)
        yield result["rows"]
        offset += EXPORT_CHUNK
        if "complete" in result or offset >= result["total"] or not result["rows"]:
            return


def _table_read(
    app: str, window: int, q: str, match: str, ip: str, order: str, offset: int, limit: int
) -> SessionPage:
    """The sessions table's rows: the window (newest or oldest first), an id, ids by prefix,
    or an ip (newest first). The prefix and ip searches are bounded walks: no offset."""
    store = sessions()
    if ip:
        wanted, prefix = ip.removesuffix("*"), ip.endswith("*")
        return store.ip_page(app=app, ip=wanted, prefix=prefix, delta_time=window, limit=limit)
    if q and match == "prefix":
        return store.prefix_page(app=app, prefix=q, delta_time=window, limit=limit)
    if q:
        return store.user_page(app=app, id=q, delta_time=window, offset=offset, limit=limit)
    return store.soapp_page(
        app=app, delta_time=window, offset=offset, limit=limit, oldest_first=order == "oldest"
    )


def everywhere_table(id: str) -> dict[str, Any]:
    """An id's live sessions in every app holding it, each app's newest PAGE_SIZE."""
    groups = [
        {
            "app": page["app"],
            "total": page["total"],
            "problem": page.get("problem", ""),
            "rows": _shown(page["rows"]),
            "kill_session_url": reverse("dashboard:kill_session", args=[page["app"]]),
            "user_url": user_url(page["app"], id),
        }
        for page in sessions().user_everywhere(id=id, limit=PAGE_SIZE)
    ]
    return {
        "id": printable(id),
        "ref": id_ref(id),
        "groups": groups,
        "total": sum(group["total"] for group in groups),
        "state": {"window": DEFAULT_WINDOW, "page": 1, "q": ""},
        "table_url": everywhere_url(id),
    }


def everywhere_url(id: str) -> str:
    return f"{reverse('dashboard:everywhere')}?{id_query(id)}"


def _paged(read: Callable[[int], SessionPage], page: int) -> tuple[SessionPage, int, int]:
    """A page read with `read(page)`, and the page count; past the end (sessions ended since
    the link was made) the last page is shown instead."""
    result = read(page)
    pages = max(1, math.ceil(result["total"] / PAGE_SIZE))
    if page > pages:
        page = pages
        result = read(page)
        pages = max(1, math.ceil(result["total"] / PAGE_SIZE))
    return result, page, pages


def _shown(rows: list[SessionRow]) -> list[dict[str, Any]]:
    """Rows plus what the templates show, computed once.

    Optional session fields get explicit values: a failed template lookup is slow.
    """
    return [
        {
            **row,
            "id": printable(row["session"]["id"]),
            "ref": id_ref(row["session"]["id"]),
            "ip": printable(row["session"]["ip"]),
            "id_query": id_query(row["session"]["id"]),
            "no_resave": bool(row["session"].get("no_resave")),
            "data": data_items(row["session"].get("d")),
            "data_keys": data_keys(row["session"].get("d")),
        }
        for row in rows
    ]


def _row_links(app: str) -> dict[str, str]:
    """URLs every row of a table needs, reversed once per table rather than once per row."""
    return {
        "kill_session_url": reverse("dashboard:kill_session", args=[app]),
        "user_base_url": reverse("dashboard:user", args=[app]),
    }
