"""The README's screenshots, taken for real over plausible data: the app page over a day of
activity (docs/app-page.png), the apps page sorted, with its totals, Redis panel and last wipe
(docs/apps-page.png), and one user's sessions in every app (docs/user-everywhere.png).

Every run takes them; `UPDATE_README_SCREENSHOT=1` writes them over the files in docs/
(otherwise they go to a temporary directory, so test runs leave the working tree clean). The
data is made up: example.com-style ids, documentation IP ranges, no tokens on any page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from playwright.sync_api import Page, expect

from bench.seed import seed
from sessions_core import RedisSessions

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOT = DOCS / "app-page.png"
FIRST = ["ana", "ben", "chloe", "dev", "emil", "fatima", "goran", "hana", "ines", "jon"]
LAST = ["kowalski", "lopez", "meyer", "nakamura", "okafor", "petrov", "quinn", "rossi"]
DOMAINS = ["example.com", "example.org", "mail.example.net"]


def customer_ids() -> list[str]:
    return [
        f"{first}.{last}@{DOMAINS[(i + j) % len(DOMAINS)]}"
        for i, first in enumerate(FIRST)
        for j, last in enumerate(LAST)
    ]


def test_app_page_screenshot_for_the_readme_shows_a_day_of_activity(
    operator: Page, rs: RedisSessions, redis_url: str, tmp_path: Path
) -> None:
    page = operator
    ids = customer_ids()
    # Spread over 23 h 50 min: nobody drifts out of the 24 h chart while the test runs.
    report = seed(
        redis_url, sessions=260, users=len(ids), app_names=["shop"], ids=ids, spread=85800
    )
    seed(redis_url, sessions=120, users=60, app_names=["blog", "api"], random_seed=1)
    expect_total = report.per_app["shop"][0]

    # The 10 min window keeps the table, and so the picture, short.
    page.goto("/apps/shop/?window=600")
    expect(page.get_by_test_id("count-sessions")).to_have_text(str(expect_total))
    expect(page.get_by_test_id("count-users")).to_have_text(str(len(ids)))
    bars = page.get_by_test_id("activity-chart").locator("rect")
    expect(bars).to_have_count(24)
    counts = [int(bar.get_attribute("data-count") or 0) for bar in bars.all()]
    assert sum(counts) == len(ids), "every user was active within the day"
    assert sum(1 for c in counts if c) >= 12, "activity is spread over the day"
    rows = page.get_by_test_id("session-row")
    expect(rows.first).to_be_visible()
    shown = int(page.get_by_test_id("sessions-total").get_attribute("data-total") or 0)
    expect(rows).to_have_count(min(shown, 50))
    assert shown == len(rs.soapp(app="shop", delta_time=600)["sessions"])

    take(page, SCREENSHOT.name, tmp_path)


def take(page: Page, name: str, tmp_path: Path) -> Path:
    """A full-page screenshot: into docs/ with UPDATE_README_SCREENSHOT set, else tmp_path."""
    path = DOCS / name if os.environ.get("UPDATE_README_SCREENSHOT") else tmp_path / name
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
    assert path.stat().st_size > 10_000
    viewport = page.viewport_size
    assert viewport, "a desktop viewport (conftest's 1280 x 800)"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    return path


# Biggest first (bench.seed sizes apps like 1/k), so "by sessions" differs from "by name".
APPS = ["storefront", "accounts", "blog", "checkout", "api", "status"]


def test_apps_page_screenshot_for_the_readme_shows_apps_sorted_with_totals_and_redis(
    operator: Page, rs: RedisSessions, redis_url: str, tmp_path: Path
) -> None:
    page = operator
    report = seed(redis_url, sessions=4800, users=1500, app_names=APPS, random_seed=7)
    # A few sessions timed out a minute ago, for the last wipe pass to remove.
    for app, n in (("checkout", 12), ("blog", 5)):
        for i in range(n):
            id = f"guest-{app}-{i}"
            token = rs.create(app=app, id=id, ip=f"198.51.100.{i + 1}", ttl=10)["token"]
            rs.backdate_many(app=app, sessions=[{"token": token, "id": id, "idle": 60}])
    assert rs.wipe_pass()["removed"] == 17

    page.goto("/?sort=sessions&order=desc")
    rows = page.get_by_test_id("app-row")
    expect(rows).to_have_count(len(APPS))
    by_size = sorted(APPS, key=lambda app: -report.per_app[app][0])
    expect(rows.first).to_have_attribute("data-app", by_size[0])
    assert [row.get_attribute("data-app") for row in rows.all()] == by_size
    sessions_header = page.locator("th").filter(has=page.get_by_test_id("sort-sessions"))
    expect(sessions_header).to_have_attribute("aria-sort", "descending")
    total = sum(sessions for sessions, _ in report.per_app.values())
    expect(page.get_by_test_id("total-sessions")).to_have_text(f"{total:,}")
    expect(page.get_by_test_id("redis-panel")).to_be_visible()
    expect(page.get_by_test_id("last-wipe")).to_contain_text("removed 17 timed-out sessions")
    take(page, "apps-page.png", tmp_path)


class Roaming(NamedTuple):
    app: str
    ip: str
    idle: int  # seconds since its last activity
    ttl: int
    no_resave: bool
    d: dict[str, str | int | bool] | None
    reads: int = 0


# One customer signed in on several devices in several apps.
ROAMING_ID = "hana.meyer@example.org"
ROAMING_SESSIONS = [
    Roaming("storefront", "203.0.113.24", 35, 7 * 86400, False, {"cart_items": 3}, reads=14),
    Roaming("storefront", "198.51.100.7", 2 * 3600, 7 * 86400, False, {"locale": "de-DE"}, 3),
    Roaming("accounts", "203.0.113.24", 40, 1800, True, {"mfa": True, "plan": "pro"}, reads=6),
    Roaming("checkout", "203.0.113.24", 9 * 60, 86400, False, {"step": "payment"}, reads=2),
]


def test_user_everywhere_screenshot_for_the_readme_shows_one_id_in_several_apps(
    operator: Page, rs: RedisSessions, redis_url: str, tmp_path: Path
) -> None:
    page = operator
    seed(redis_url, sessions=600, users=200, app_names=APPS, random_seed=3)
    for s in ROAMING_SESSIONS:
        token = rs.create(
            app=s.app, id=ROAMING_ID, ip=s.ip, ttl=s.ttl, d=s.d, no_resave=s.no_resave
        )["token"]
        for _ in range(s.reads):  # reads first: a read is activity, the backdate comes last
            rs.get(app=s.app, token=token)
        rs.backdate_many(app=s.app, sessions=[{"token": token, "id": ROAMING_ID, "idle": s.idle}])
    apps = {s.app for s in ROAMING_SESSIONS}

    page.goto("/")
    page.get_by_test_id("everywhere-input").fill(ROAMING_ID)
    page.get_by_test_id("everywhere-search").click()
    expect(page.get_by_test_id("user-id")).to_have_text(ROAMING_ID)
    expect(page.get_by_test_id("app-group")).to_have_count(len(apps))
    expect(page.get_by_test_id("session-row")).to_have_count(len(ROAMING_SESSIONS))
    expect(page.get_by_test_id("everywhere-total")).to_contain_text(
        f"{len(ROAMING_SESSIONS)} live sessions in {len(apps)} apps"
    )
    take(page, "user-everywhere.png", tmp_path)
