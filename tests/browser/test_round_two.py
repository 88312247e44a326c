"""Issue 13 in Chromium: the audit log filtered and exported, the pause switch across a reload,
the live panels' "Updated" time, and the chart's y scale.

Polls are driven by Playwright's fake clock, as in test_live_updates: jumping it forward fires
htmx's 5 s poll at once. The server keeps real time, so an "Updated" time changes by the real
milliseconds a poll takes.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, Request, expect

from dashboard.models import KillAudit
from sessions_core import RedisSessions

from .support import log_in

POLL_MS = 5_000


def is_poll(request: Request) -> bool:
    headers = request.headers
    return (
        request.method == "GET"
        and headers.get("hx-request") == "true"
        and headers.get("hx-target") in {"live", "apps-table"}
    )


def audited(operator: str, action: str, app: str, user_id: str = "", count: int = 1) -> None:
    KillAudit.objects.create(
        operator_name=operator, action=action, app=app, user_id=user_id, count=count
    )


# -- audit log ---------------------------------------------------------------------------------


def test_an_operator_filters_the_audit_log_and_downloads_what_it_shows_as_csv(
    operator: Page, tmp_path: Path
) -> None:
    page = operator
    audited("alice", "kill", "shop", "u1")
    audited("bob", "killsoid", "blog", "=HYPERLINK(1)", count=3)
    audited("bob", "kill", "shop", "u3")
    audited("bob", "killall", "shop", count=40)
    page.goto("/audit/")
    expect(page.get_by_test_id("audit-row")).to_have_count(4)
    expect(page.get_by_test_id("audit-total")).to_have_text("4 kills recorded.")

    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Operator").fill("bob")
    page.get_by_label("Action").select_option(label="log out everywhere")
    page.get_by_test_id("audit-filter-button").click()
    expect(page.get_by_test_id("audit-total")).to_have_text("1 kill matches these filters.")
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/audit/\?operator=bob&action=killsoid$"))
    assert page.evaluate("window.__sameDocument") is True, "htmx swapped the table in place"

    with page.expect_download() as download_info:
        page.get_by_test_id("audit-export").click()
    download = download_info.value
    assert re.fullmatch(r"audit-log-\d{8}-\d{6}\.csv", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    assert header[:5] == ["at_utc", "operator", "action", "app", "user_id"]
    assert [row[1:5] for row in rows] == [["bob", "killsoid", "blog", "'=HYPERLINK(1)"]]

    # The filters survive a reload: they are in the address.
    page.reload()
    expect(page.get_by_label("Operator")).to_have_value("bob")
    expect(page.get_by_test_id("audit-row")).to_have_count(1)


def test_paging_a_filtered_audit_log_stays_within_the_filter(operator: Page) -> None:
    page = operator
    KillAudit.objects.bulk_create(
        KillAudit(operator_name="bob", action="kill", app="shop", user_id=f"b{i}", count=1)
        for i in range(55)
    )
    KillAudit.objects.bulk_create(
        KillAudit(operator_name="alice", action="kill", app="shop", user_id=f"a{i}", count=1)
        for i in range(30)
    )
    page.goto("/audit/?operator=bob")
    expect(page.get_by_test_id("page-number")).to_have_text("Page 1 of 2")
    page.get_by_test_id("page-next").click()
    expect(page.get_by_test_id("page-number")).to_have_text("Page 2 of 2")
    expect(page.get_by_test_id("audit-row")).to_have_count(5)
    expect(page.get_by_test_id("audit-row").filter(has_text="alice")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/audit/\?operator=bob&page=2$"))


# -- the pause switch --------------------------------------------------------------------------


def test_the_pause_survives_a_reload_and_polling_stays_paused(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    page.clock.install()
    rs.create(app="shop", id="kim", ip="10.7.0.1")
    page.goto("/apps/shop/")
    page.get_by_test_id("pause-switch").check()

    polls: list[Request] = []
    page.reload()
    page.on("request", lambda request: polls.append(request) if is_poll(request) else None)
    expect(page.get_by_test_id("pause-switch")).to_be_checked()
    rs.create(app="shop", id="lee", ip="10.7.0.2")
    page.clock.run_for(3 * POLL_MS)  # three poll ticks, all held back
    expect(page.get_by_test_id("count-sessions")).to_have_text("1")
    assert polls == []

    page.get_by_test_id("pause-switch").uncheck()
    with page.expect_response(lambda response: is_poll(response.request)):
        page.clock.fast_forward(POLL_MS)
    expect(page.get_by_test_id("count-sessions")).to_have_text("2")
    page.reload()
    expect(page.get_by_test_id("pause-switch")).not_to_be_checked()


def test_the_pause_stays_with_its_page_and_its_tab(
    operator: Page, context: BrowserContext, rs: RedisSessions
) -> None:
    page = operator
    rs.create(app="shop", id="olga", ip="10.7.1.1")
    page.goto("/")
    page.get_by_test_id("pause-switch").check()
    page.goto("/audit/")
    page.go_back()
    expect(page.get_by_test_id("pause-switch")).to_be_checked()

    page.goto("/apps/shop/")  # another page starts live
    expect(page.get_by_test_id("pause-switch")).not_to_be_checked()

    other_tab = context.new_page()  # and so does a new tab, same login
    other_tab.goto("/")
    expect(other_tab.get_by_test_id("pause-switch")).not_to_be_checked()
    other_tab.close()


# -- freshness ---------------------------------------------------------------------------------


def test_the_updated_time_of_each_live_panel_changes_with_each_poll(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    page.clock.install()
    rs.create(app="shop", id="max", ip="10.8.0.1")
    for url in ("/", "/apps/shop/"):
        page.goto(url)
        updated = page.get_by_test_id("updated-at")
        expect(updated).to_have_count(1)
        expect(updated).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
        first = updated.get_attribute("datetime")
        assert first is not None
        with page.expect_response(lambda response: is_poll(response.request)):
            page.clock.fast_forward(POLL_MS)
        expect(updated).not_to_have_attribute("datetime", first)
        later = updated.get_attribute("datetime")
        assert later is not None
        assert dt.datetime.fromisoformat(later) > dt.datetime.fromisoformat(first)


def test_a_paused_panel_keeps_its_updated_time(operator: Page, rs: RedisSessions) -> None:
    page = operator
    page.clock.install()
    rs.create(app="shop", id="ned", ip="10.9.0.1")
    page.goto("/apps/shop/")
    page.get_by_test_id("pause-switch").check()
    first = page.get_by_test_id("updated-at").get_attribute("datetime")
    page.clock.run_for(2 * POLL_MS)
    expect(page.get_by_test_id("updated-at")).to_have_attribute("datetime", str(first))


# -- the chart ---------------------------------------------------------------------------------


def test_the_y_labels_sit_on_their_gridlines(operator: Page, rs: RedisSessions) -> None:
    page = operator
    for i in range(7):
        rs.create(app="shop", id=f"u{i}", ip="10.10.0.1")
    page.goto("/apps/shop/")
    labels = page.get_by_test_id("y-tick")
    expect(labels).to_have_text(["0", "2", "4", "6", "8"])
    gridlines = page.locator("#live svg line.gridline")
    expect(gridlines).to_have_count(5)
    for i in range(5):
        label = labels.nth(i).bounding_box()
        line = gridlines.nth(i).bounding_box()
        assert label and line
        assert abs(label["y"] - line["y"]) <= 1.5, (i, label, line)
        assert label["x"] + label["width"] <= line["x"]  # beside the plot, not over it


def test_a_superuser_reaches_the_admin_from_the_navigation(
    page: Page, django_user_model: Any, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    django_user_model.objects.create_superuser("root", password="root-pw-123")
    log_in(page, "root", "root-pw-123")
    page.goto("/")
    page.get_by_test_id("nav-admin").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("link", name="Users")).to_be_visible()
