"""Issue 13 in Chromium: the sessions table's id prefix search, IP filter, order and CSV
export, the apps table's sorting, totals and Redis panel, and page 1 of the sessions table
following new sessions by itself (page 2 staying put).

Sessions are given distinct last activities (`backdate_many`) so that "newest first" is one
order, not a tie broken by random tokens. Polls run on Playwright's fake clock, as in
test_live_updates: jumping it 5 s forward fires htmx's poll at once.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from playwright.sync_api import Page, Request, expect

from dashboard.pages import EXPORT_HEADER
from sessions_core import RedisSessions

from .support import exact, handle_of, session_row

POLL_MS = 5_000


def make(rs: RedisSessions, app: str, id: str, ip: str = "10.0.0.1", idle: int = 0) -> str:
    """A session of `id` in `app`, last active `idle` s ago; returns its token."""
    token = str(rs.create(app=app, id=id, ip=ip, ttl=7 * 86400)["token"])
    if idle:
        assert rs.backdate_many(app=app, sessions=[{"token": token, "id": id, "idle": idle}]) == 1
    return token


def shown_ids(page: Page) -> list[str]:
    return [text.strip() for text in page.get_by_test_id("user-link").all_inner_texts()]


def expect_ids(page: Page, ids: list[str]) -> None:
    """The table lists exactly these ids, in this order (retried until htmx has swapped)."""
    expect(page.get_by_test_id("user-link")).to_have_text(ids)


def shown_handles(page: Page) -> list[str]:
    rows = page.get_by_test_id("session-row")
    return [str(rows.nth(i).get_attribute("data-handle")) for i in range(rows.count())]


def search(page: Page, *, q: str = "", prefix: bool = False, ip: str = "") -> None:
    """Fill the table's search form like an operator and press Show; wait for the table."""
    page.get_by_test_id("search-input").fill(q)
    page.get_by_test_id("match-select").select_option(
        label="id starts with" if prefix else "exact id"
    )
    page.get_by_test_id("ip-input").fill(ip)
    with page.expect_response(lambda r: r.request.headers.get("hx-target") == "sessions"):
        page.get_by_test_id("search-button").click()


# -- id prefix search ----------------------------------------------------------------------


def test_a_prefix_search_lists_the_matching_ids_and_a_kill_keeps_the_search(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    alice_a = make(rs, "shop", "alice.a", idle=300)
    alice_b_phone = make(rs, "shop", "alice.b", idle=60)
    alice_b_laptop = make(rs, "shop", "alice.b", idle=120)
    make(rs, "shop", "alicia", idle=30)  # starts with "ali", not with "alice."
    make(rs, "shop", "bob.alice.", idle=10)  # holds the prefix, does not start with it
    make(rs, "blog", "alice.c", idle=10)  # another app
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("session-row")).to_have_count(5)
    page.evaluate("window.__sameDocument = true")

    search(page, q="alice.", prefix=True)
    expect(page).to_have_url(re.compile(r"/apps/shop/\?q=alice\.&match=prefix$"))
    expect(page.get_by_test_id("session-row")).to_have_count(3)
    expect_ids(page, ["alice.b", "alice.b", "alice.a"])  # newest first
    assert shown_handles(page) == [
        handle_of("shop", alice_b_phone),
        handle_of("shop", alice_b_laptop),
        handle_of("shop", alice_a),
    ]
    expect(page.get_by_test_id("sessions-total")).to_contain_text("ids starting with")
    expect(page.get_by_test_id("search-incomplete")).to_have_count(0)
    expect(page.get_by_test_id("live-table")).to_have_count(0)  # a search stays put
    assert page.evaluate("window.__sameDocument") is True, "htmx swapped the table in place"

    with page.expect_response(re.compile(r"/apps/shop/kill/session/$")) as answer:
        session_row(page, handle_of("shop", alice_a)).get_by_test_id("kill-session").click()
    assert answer.value.ok
    expect(page.get_by_test_id("message")).to_have_text("1 session ended")
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    expect_ids(page, ["alice.b", "alice.b"])
    expect(page.get_by_test_id("sessions-total")).to_contain_text("ids starting with")
    expect(page.get_by_test_id("search-input")).to_have_value("alice.")
    expect(page.get_by_test_id("match-select")).to_have_value("prefix")
    expect(page).to_have_url(re.compile(r"\?q=alice\.&match=prefix$"))
    assert rs.get(app="shop", token=alice_a) is None
    assert rs.get(app="shop", token=alice_b_phone) is not None

    # The search is in the address: a reload shows the same table.
    page.reload()
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    expect(page.get_by_test_id("match-select")).to_have_value("prefix")


def test_a_prefix_matching_more_than_a_page_of_ids_says_the_search_stopped_early(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    rs.create_many(
        app="shop", sessions=[{"id": f"guest-{i:03d}", "ip": "10.2.0.1"} for i in range(60)]
    )
    make(rs, "shop", "member-1")
    page.goto("/apps/shop/")

    search(page, q="guest-", prefix=True)
    notice = page.get_by_test_id("search-incomplete")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("stopped early")
    expect(notice).to_contain_text("longer prefix")
    expect(page.get_by_test_id("session-row")).to_have_count(50)
    assert all(id.startswith("guest-") for id in shown_ids(page))

    # A longer prefix (10 ids) completes: no notice.
    search(page, q="guest-05", prefix=True)
    expect(page.get_by_test_id("search-incomplete")).to_have_count(0)
    expect(page.get_by_test_id("session-row")).to_have_count(10)
    assert sorted(shown_ids(page)) == [f"guest-{i:03d}" for i in range(50, 60)]


# -- IP filter -----------------------------------------------------------------------------


def test_the_ip_filter_matches_an_exact_ip_or_a_prefix_ending_in_a_star(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    make(rs, "shop", "ann", ip="10.0.0.1", idle=50)
    make(rs, "shop", "ben", ip="10.0.0.10", idle=40)
    make(rs, "shop", "cat", ip="10.0.1.5", idle=30)
    make(rs, "shop", "dan", ip="10.1.0.1", idle=20)
    make(rs, "shop", "eve", ip="192.168.10.0", idle=10)
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("session-row")).to_have_count(5)

    search(page, ip="10.0.0.1")
    expect(page).to_have_url(re.compile(r"\?ip=10\.0\.0\.1$"))
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    expect_ids(page, ["ann"])  # exact: 10.0.0.10 is another ip
    expect(page.get_by_test_id("sessions-total")).to_contain_text("from IP")
    expect(page.get_by_test_id("search-incomplete")).to_have_count(0)

    search(page, ip="10.0.*")
    expect(page).to_have_url(re.compile(r"\?ip=10\.0\.(\*|%2A)$"))
    expect(page.get_by_test_id("session-row")).to_have_count(3)
    expect_ids(page, ["cat", "ben", "ann"])
    rows = page.get_by_test_id("session-row")
    expect(rows.nth(0)).to_contain_text("10.0.1.5")

    search(page, ip="10.*")
    expect_ids(page, ["dan", "cat", "ben", "ann"])

    search(page, ip="172.16.*")
    expect(page.get_by_test_id("session-row")).to_have_count(0)
    expect(page.get_by_test_id("sessions-total")).to_contain_text("0 sessions")


# -- order ---------------------------------------------------------------------------------


def test_the_sessions_table_lists_oldest_first_on_request(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    for id, idle in (("mid", 600), ("newest", 5), ("oldest", 3000), ("older", 1200)):
        make(rs, "shop", id, idle=idle)
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("session-row")).to_have_count(4)
    expect_ids(page, ["newest", "mid", "older", "oldest"])

    with page.expect_response(lambda r: r.request.headers.get("hx-target") == "sessions"):
        page.get_by_test_id("order-select").select_option(label="oldest first")
    expect(page).to_have_url(re.compile(r"\?order=oldest$"))
    expect(page.get_by_test_id("user-link").first).to_have_text("oldest")
    expect_ids(page, ["oldest", "older", "mid", "newest"])
    export = page.get_by_test_id("export-link")
    expect(export).to_have_attribute("href", re.compile(r"order=oldest"))

    page.reload()  # the order is kept in the address
    expect(page.get_by_test_id("order-select")).to_have_value("oldest")
    expect_ids(page, ["oldest", "older", "mid", "newest"])


# -- the apps table ------------------------------------------------------------------------


def test_the_apps_table_sorts_by_a_column_both_ways_with_totals_and_the_redis_panel(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    # blog: 5 sessions of 3 users; shop: 1 of 1; wiki: 3 of 2, one of them idle for 2 h.
    for id in ("b1", "b1", "b1", "b2", "b3"):
        make(rs, "blog", id)
    make(rs, "shop", "s1")
    make(rs, "wiki", "w1")
    make(rs, "wiki", "w1")
    make(rs, "wiki", "w2", idle=7200)

    page.goto("/")
    rows = page.get_by_test_id("app-row")
    expect(rows).to_have_count(3)
    header = page.locator("#apps-table thead th")
    expect(header.filter(has=page.get_by_test_id("sort-app"))).to_have_attribute(
        "aria-sort", "ascending"
    )

    def order() -> list[str]:
        return [str(rows.nth(i).get_attribute("data-app")) for i in range(rows.count())]

    assert order() == ["blog", "shop", "wiki"]
    sessions_header = header.filter(has=page.get_by_test_id("sort-sessions"))
    expect(sessions_header).to_have_attribute("aria-sort", "none")

    page.get_by_test_id("sort-sessions").click()  # first click: biggest first
    expect(sessions_header).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"/\?sort=sessions&order=desc$"))
    expect(rows.first).to_have_attribute("data-app", "blog")
    assert order() == ["blog", "wiki", "shop"]
    expect(header.filter(has=page.get_by_test_id("sort-app"))).to_have_attribute(
        "aria-sort", "none"
    )

    page.get_by_test_id("sort-sessions").click()  # second click: the other way round
    expect(sessions_header).to_have_attribute("aria-sort", "ascending")
    expect(page).to_have_url(re.compile(r"/\?sort=sessions&order=asc$"))
    expect(rows.first).to_have_attribute("data-app", "shop")
    assert order() == ["shop", "wiki", "blog"]
    expect(page.get_by_test_id("sort-sessions")).to_contain_text("▲")

    totals = page.get_by_test_id("totals-row")
    expect(totals.get_by_test_id("total-sessions")).to_have_text("9")
    expect(totals.get_by_test_id("total-users")).to_have_text("6")
    expect(totals.get_by_test_id("total-active-60")).to_have_text("5")
    expect(totals.get_by_test_id("total-active-600")).to_have_text("5")
    expect(totals.get_by_test_id("total-active-3600")).to_have_text("5")
    expect(totals.get_by_test_id("total-active-86400")).to_have_text("6")

    panel = page.get_by_test_id("redis-panel")
    expect(panel).to_be_visible()
    expect(panel).to_have_text(
        re.compile(r"^\s*Redis \d+\.\d+\.\d+: .+ of memory used, \d+ clients?")
    )

    page.reload()  # the order is in the address
    expect(sessions_header).to_have_attribute("aria-sort", "ascending")
    assert order() == ["shop", "wiki", "blog"]


# -- CSV export ----------------------------------------------------------------------------


def test_the_export_link_downloads_the_rows_of_the_tables_search_as_csv(
    operator: Page, rs: RedisSessions, tmp_path: Path
) -> None:
    page = operator
    tokens = [
        make(rs, "shop", f"team-{i}", ip=f"10.3.0.{i + 1}", idle=10 * (i + 1)) for i in range(7)
    ]
    tokens.append(make(rs, "shop", "team-0", ip="10.3.9.9", idle=500))
    tokens.append(make(rs, "shop", "team-x", idle=5))
    rs.set(app="shop", token=tokens[-1], d={"plan": "pro", "cart": 2})
    tokens.append(make(rs, "shop", "=outsider", ip="10.4.0.1"))
    page.goto("/apps/shop/")
    search(page, q="team-", prefix=True)
    rows = page.get_by_test_id("session-row")
    expect(rows).to_have_count(9)
    table_ids, table_handles = shown_ids(page), shown_handles(page)
    table_ips = [rows.nth(i).locator("td").nth(1).inner_text().strip() for i in range(9)]
    link = page.get_by_test_id("export-link")
    expect(link).to_have_attribute(
        "href", re.compile(r"/apps/shop/export\.csv\?q=team-&match=prefix$")
    )

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "shop-sessions.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as file:
        header, *lines = list(csv.reader(file))
    assert header == EXPORT_HEADER
    column = {name: i for i, name in enumerate(header)}
    assert [line[column["user_id"]] for line in lines] == table_ids
    assert [line[column["handle"]] for line in lines] == table_handles
    assert [line[column["ip"]] for line in lines] == table_ips
    team_x = lines[table_ids.index("team-x")]
    assert team_x[column["data_keys"]] == "cart, plan"
    assert team_x[column["writes"]] == "2"  # create, then set
    for line in lines:
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", line[column["last_active_utc"]]
        )
        assert line[column["unreadable"]] == ""
    text = saved.read_text(encoding="utf-8")
    assert "outsider" not in text
    assert not [token for token in tokens if token in text], "a token reached the export"


# -- page 1 follows new sessions, page 2 stays put ------------------------------------------


def is_table_poll(request: Request) -> bool:
    headers = request.headers
    return (
        request.method == "GET"
        and headers.get("hx-request") == "true"
        and headers.get("hx-target") == "sessions"
        and headers.get("hx-trigger") == "sessions"
    )


def is_counts_poll(request: Request) -> bool:
    return request.method == "GET" and request.headers.get("hx-target") == "live"


def test_page_one_shows_a_new_session_after_five_seconds_while_page_two_stays_put(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    page.clock.install()
    for i in range(60):  # 2 pages, each session one second older than the one before
        make(rs, "shop", f"early-{i:02d}", idle=60 + i)
    page.goto("/apps/shop/")
    expect(page.get_by_test_id("live-table")).to_have_count(1)
    expect(page.get_by_test_id("page-number")).to_have_text("Page 1 of 2")
    expect(page.get_by_test_id("user-link").first).to_have_text("early-00")
    page.evaluate("window.__sameDocument = true")

    newcomer = make(rs, "shop", "newcomer")
    with page.expect_response(lambda response: is_table_poll(response.request)):
        page.clock.fast_forward(POLL_MS)
    expect(page.get_by_test_id("user-link").first).to_have_text("newcomer")
    expect(session_row(page, handle_of("shop", newcomer))).to_have_count(1)
    expect(page.get_by_test_id("session-row")).to_have_count(50)
    expect(page.get_by_test_id("sessions-total")).to_have_attribute("data-total", "61")
    expect(page).to_have_url(re.compile(r"/apps/shop/$"))  # a refresh pushes no history
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"

    page.get_by_test_id("page-next").click()
    expect(page.get_by_test_id("page-number")).to_have_text("Page 2 of 2")
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    expect(page.get_by_test_id("live-table")).to_have_count(0)
    before = shown_handles(page)
    assert len(before) == 11
    expect(page.get_by_test_id("user-link").first).to_have_text("early-49")

    table_polls: list[Request] = []
    page.on(
        "request", lambda request: table_polls.append(request) if is_table_poll(request) else None
    )
    latecomer = make(rs, "shop", "latecomer")  # would push every row of page 2 one place down
    with page.expect_response(lambda response: is_counts_poll(response.request)):
        page.clock.fast_forward(POLL_MS)
    expect(page.get_by_test_id("count-sessions")).to_have_text("62")  # the counts follow
    assert table_polls == [], "page 2 of the table polled"
    assert shown_handles(page) == before
    expect(page.get_by_test_id("sessions-total")).to_have_attribute("data-total", "61")
    expect(session_row(page, handle_of("shop", latecomer))).to_have_count(0)
    expect(page.get_by_test_id("user-link").filter(has_text=exact("early-49"))).to_have_count(1)
