"""The README's screenshot: the app page over a day of realistic activity, taken for real.

Every run takes it; `UPDATE_README_SCREENSHOT=1` writes it over docs/app-page.png (otherwise
it goes to a temporary directory, so test runs leave the working tree clean).
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from bench.seed import seed
from sessions_core import RedisSessions

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "app-page.png"
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

    path = SCREENSHOT if os.environ.get("UPDATE_README_SCREENSHOT") else tmp_path / SCREENSHOT.name
    path.parent.mkdir(exist_ok=True)
    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
    assert path.stat().st_size > 10_000
