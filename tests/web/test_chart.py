"""The app page's activity chart: a y scale of round numbers and labels in good English."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from dashboard.charts import HEIGHT, activity_bars, activity_chart, plural, y_scale
from sessions_core import RedisSessions
from tests.web.conftest import htmx


@pytest.mark.parametrize(
    ("tallest", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (3, [0, 1, 2, 3]),
        (4, [0, 1, 2, 3, 4]),
        (5, [0, 2, 4, 6]),
        (7, [0, 2, 4, 6, 8]),
        (10, [0, 5, 10]),
        (11, [0, 5, 10, 15]),
        (21, [0, 10, 20, 30]),
        (1234, [0, 500, 1000, 1500]),
        (10**12 + 1, [0, 5 * 10**11, 10**12, 15 * 10**11]),
    ],
)
def test_y_scale_counts_in_round_steps_up_to_at_least_the_tallest_bar(
    tallest: int, ticks: list[int]
) -> None:
    assert y_scale(tallest) == ticks


def test_y_scale_never_has_more_than_four_intervals() -> None:
    for tallest in range(1, 2000):
        ticks = y_scale(tallest)
        assert 2 <= len(ticks) <= 5
        assert ticks[-1] >= tallest > ticks[-2]


def test_bars_are_scaled_to_the_top_gridline_not_the_tallest_bar() -> None:
    chart = activity_chart([7, 0, 2])  # newest first
    assert [t.value for t in chart.ticks] == [0, 2, 4, 6, 8]
    assert chart.top == 8
    assert [t.y for t in chart.ticks] == [HEIGHT, HEIGHT * 3 / 4, HEIGHT / 2, HEIGHT / 4, 0]
    newest = chart.bars[-1]
    assert newest.height == HEIGHT * 7 / 8
    assert newest.y == HEIGHT - newest.height
    assert chart.total == 9


@pytest.mark.parametrize(
    ("count", "words"),
    [(0, "0 users"), (1, "1 user"), (2, "2 users"), (1234, "1,234 users")],
)
def test_plural_says_one_user_and_many_users(count: int, words: str) -> None:
    assert plural(count, "user") == words


def test_bar_labels_use_the_singular_for_one_user() -> None:
    labels = [bar.label for bar in activity_bars([1, 0, 2])]
    assert labels == [
        "2 users last active 2-3 h ago",
        "0 users last active 1-2 h ago",
        "1 user last active 0-1 h ago",
    ]


def test_the_description_names_the_scale() -> None:
    assert activity_chart([7]).description == "Scale from 0 to 8 users, a gridline every 2."
    assert activity_chart([1]).description == "Scale from 0 to 1 user, a gridline every 1."
    assert activity_chart([0] * 24).description == "Scale from 0 to 1 user, a gridline every 1."


def test_the_app_page_draws_gridlines_and_labels_of_the_y_scale(
    viewer: Client, store: RedisSessions, age: Callable[..., None]
) -> None:
    for i in range(7):
        store.create(app="shop", id=f"now{i}", ip="10.0.0.1")
    token = store.create(app="shop", id="earlier", ip="10.0.0.1", ttl=86400)["token"]
    age("shop", token, 5 * 3600 + 600)
    html = viewer.get("/apps/shop/").content.decode()
    assert re.findall(r'data-testid="y-tick">([^<]*)<', html) == ["0", "2", "4", "6", "8"]
    gridlines = re.findall(r'<line class="gridline" x1="0" y1="([\d.]+)" x2="480"', html)
    assert gridlines == ["120.0", "90.0", "60.0", "30.0", "0.0"]
    assert re.search(r'y="15\.0" width="[\d.]+" height="105\.0" data-count="7"', html)
    assert "<title>1 user last active 5-6 h ago</title>" in html
    assert "<title>7 users last active 0-1 h ago</title>" in html
    assert "Scale from 0 to 8 users, a gridline every 2." in html
    assert "8 users active in the last 24 h" in html


def test_one_active_user_is_one_user_everywhere_on_the_chart(
    viewer: Client, store: RedisSessions
) -> None:
    store.create(app="shop", id="solo", ip="10.0.0.1")
    html = viewer.get("/apps/shop/", headers=htmx("live")).content.decode()
    assert "1 user active in the last 24 h" in html
    assert "<title>1 user last active 0-1 h ago</title>" in html
    assert "1 users" not in html
    assert re.findall(r'data-testid="y-tick">([^<]*)<', html) == ["0", "1"]


def test_the_chart_has_no_style_attribute(viewer: Client, store: RedisSessions) -> None:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    html = viewer.get("/apps/shop/", headers=htmx("live")).content.decode()
    chart = html[html.index('data-testid="activity-chart"') : html.index("</figure>")]
    assert "style=" not in chart
