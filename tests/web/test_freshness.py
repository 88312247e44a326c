"""Every live panel says when the server rendered it, on the full page and on every poll."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

import pytest
from django.test import Client

from sessions_core import RedisSessions
from tests.web.conftest import htmx

UPDATED = re.compile(
    r'<p class="updated">Updated <time datetime="([^"]+)" title="([^"]+)" '
    r'data-testid="updated-at">(\d\d:\d\d:\d\d)</time></p>'
)


def updated(html: str) -> tuple[dt.datetime, str, str]:
    """The panel's render time, its title and its text; exactly one per answer."""
    (match,) = UPDATED.findall(html)
    return dt.datetime.fromisoformat(match[0]), match[1], match[2]


@pytest.fixture
def shop(store: RedisSessions) -> RedisSessions:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    return store


@pytest.mark.parametrize(("url", "target"), [("/", "apps-table"), ("/apps/shop/", "live")])
def test_a_live_panel_shows_when_it_was_rendered_on_the_page_and_on_each_poll(
    viewer: Client, shop: RedisSessions, url: str, target: str
) -> None:
    before = dt.datetime.now(dt.UTC)
    at, title, shown = updated(viewer.get(url).content.decode())
    assert before - dt.timedelta(seconds=1) <= at <= dt.datetime.now(dt.UTC)
    assert shown == at.strftime("%H:%M:%S")
    assert title == at.strftime("%Y-%m-%d %H:%M:%S UTC")

    time.sleep(0.01)
    poll = viewer.get(url, headers=htmx(target)).content.decode()
    assert poll.lstrip().startswith(f'<section id="{target}"')
    later, _, _ = updated(poll)
    assert later > at


def test_the_time_is_in_the_dashboards_time_zone(
    viewer: Client, shop: RedisSessions, settings: Any
) -> None:
    settings.TIME_ZONE = "Asia/Tokyo"
    at, title, shown = updated(viewer.get("/apps/shop/", headers=htmx("live")).content.decode())
    assert at.utcoffset() == dt.timedelta(hours=9)
    assert title.endswith(" JST")
    assert shown == at.strftime("%H:%M:%S")


def test_the_sessions_table_carries_no_second_timestamp(
    viewer: Client, shop: RedisSessions
) -> None:
    html = viewer.get("/apps/shop/", headers=htmx("sessions")).content.decode()
    assert 'data-testid="updated-at"' not in html
