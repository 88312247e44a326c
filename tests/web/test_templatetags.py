"""Human times, safe links and readable session data in templates."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template import Context, Template

from dashboard.charts import HEIGHT, WIDTH, activity_bars
from dashboard.templatetags.dashboard import (
    at,
    count,
    data_items,
    data_keys,
    human_duration,
    id_query,
    readable,
    relative,
    user_url,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (-5, "0 s"),
        (1, "1 s"),
        (59, "59 s"),
        (60, "1 min"),
        (61, "1 min"),
        (179, "2 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (3600 + 5 * 60 + 30, "1 h 5 min"),
        (86400, "1 d"),
        (86400 + 3600 * 4 + 120, "1 d 4 h"),
        (86400 + 120, "1 d"),
        (30 * 86400, "30 d"),
        (12.9, "12 s"),
    ],
)
def test_human_duration_shows_the_largest_unit_and_the_next(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_relative_says_ago_for_the_past_and_in_for_the_future() -> None:
    assert relative(1000, now=1180) == "3 min ago"
    assert relative(1000 + 7200, now=1000) == "in 2 h"
    assert relative(1000, now=1001) == "just now"


def test_ago_renders_a_time_element_with_the_exact_utc_time_on_hover() -> None:
    ts = int(time.time()) - 180
    html = Template("{% load dashboard %}{% ago ts %}").render(Context({"ts": ts}))
    exact = datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
    assert html == f'<time datetime="{exact}" title="{exact}">3 min ago</time>'


def test_ago_accepts_datetimes_and_says_never_for_none() -> None:
    moment = datetime.now(UTC)
    html = Template("{% load dashboard %}{% ago when %}|{% ago nothing %}").render(
        Context({"when": moment, "nothing": None})
    )
    assert ">just now</time>|never" in html


def test_duration_renders_exact_seconds_on_hover() -> None:
    html = Template("{% load dashboard %}{% duration 3725 %}").render(Context())
    assert html == '<span title="3725 s">1 h 2 min</span>'


@pytest.mark.parametrize("id", ["plain", "a/b?c#d%e:f&g=h", "<script>x</script>", "🎉 ü", " x "])
def test_user_url_carries_any_id_in_the_query_string(id: str) -> None:
    url = user_url("shop", id)
    parts = urlsplit(url)
    assert parts.path == "/apps/shop/user/"
    assert not parts.fragment
    assert parse_qs(parts.query, keep_blank_values=True) == {"id": [id]}


def test_count_groups_thousands() -> None:
    assert [count(0), count(999), count(1234567)] == ["0", "999", "1,234,567"]


def test_id_query_percent_encodes_everything_that_means_something_in_a_url() -> None:
    assert id_query("a/b?c#d%e&f=g h") == "id=a%2Fb%3Fc%23d%25e%26f%3Dg+h"


def test_data_items_are_sorted_and_immune_to_keys_named_like_dict_methods() -> None:
    d = {"items": "x", "keys": 1, "b": None, "a": True, "f": 1.5}
    assert data_items(d) == [
        ("a", "true"),
        ("b", "null"),
        ("f", "1.5"),
        ("items", "x"),
        ("keys", "1"),
    ]
    assert data_items(None) == []
    html = Template(
        "{% load dashboard %}{% for k, v in d|data_items %}[{{ k }}={{ v }}]{% endfor %}"
    ).render(Context({"d": d}))
    assert html == "[a=true][b=null][f=1.5][items=x][keys=1]"


def test_data_keys_lists_keys_or_nothing() -> None:
    assert data_keys({"z": 1, "a": 2}) == "a, z"
    assert data_keys(None) == ""


def test_readable_keeps_strings_and_writes_other_values_as_json() -> None:
    assert readable('say "hi"') == 'say "hi"'
    assert readable(False) == "false"
    assert readable(12345678901234567890) == "12345678901234567890"


def test_at_reads_numeric_keys_and_defaults_to_empty() -> None:
    assert at({60: 3}, 60) == 3
    assert at({60: 3}, 600) == ""


def test_activity_bars_put_the_oldest_bucket_left_and_scale_to_the_tallest() -> None:
    bars = activity_bars([4, 0, 2])  # newest bucket first
    assert [b.count for b in bars] == [2, 0, 4]
    assert bars[2].height == HEIGHT and bars[2].y == 0
    assert bars[0].height == HEIGHT / 2
    assert bars[1].height == 0
    assert bars[2].x + bars[2].width <= WIDTH
    assert bars[0].label == "2 users last active 2-3 h ago"
    assert bars[2].label == "4 users last active 0-1 h ago"


def test_activity_bars_of_no_activity_are_flat() -> None:
    assert all(b.height == 0 for b in activity_bars([0] * 24))
    assert activity_bars([]) == []
