"""400, 404 and 500 pages in the dashboard's look, with DEBUG off as in production."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sessions_core import RedisSessions


@pytest.fixture(autouse=True)
def production(settings: Any, redis_settings: object) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.web.error_urls"


def looks_like_the_dashboard(html: str) -> None:
    assert '<link rel="stylesheet" href="/static/dashboard/dashboard.css">' in html
    assert '<a class="brand" href="/">redis-sessions</a>' in html
    assert "Back to the apps" in html


def test_an_unknown_address_is_the_dashboards_404_page(viewer: Client) -> None:
    response = viewer.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    looks_like_the_dashboard(html)
    assert "<title>Not found · redis-sessions</title>" in html
    assert "There is no page at <code>/no/such/page/</code>" in html
    assert 'data-testid="nav-audit"' in html  # rendered with the request: the operator's menu


def test_an_unknown_app_is_the_dashboards_404_page(viewer: Client, store: RedisSessions) -> None:
    response = viewer.get("/apps/nosuch/")
    assert response.status_code == 404
    html = response.content.decode()
    looks_like_the_dashboard(html)
    assert "that app is not registered and holds no sessions" in html


@pytest.mark.parametrize("url", ["/boom/", "/boom/broken-context/"])
def test_a_failing_view_is_the_dashboards_500_page_without_touching_the_database(
    viewer: Client, url: str, django_assert_num_queries: Any
) -> None:
    viewer.raise_request_exception = False
    with django_assert_num_queries(0):
        response = viewer.get(url)
    assert response.status_code == 500
    html = response.content.decode()
    looks_like_the_dashboard(html)
    assert "<title>Server error · redis-sessions</title>" in html
    assert 'data-testid="server-error"' in html
    assert "a bug in a view" not in html  # nothing of the error reaches the browser
    assert "viewer" not in html  # Django renders it without the request: no operator menu


def test_a_500_from_an_htmx_request_is_the_same_page(viewer: Client) -> None:
    viewer.raise_request_exception = False
    response = viewer.get("/boom/", headers={"HX-Request": "true"})
    assert response.status_code == 500
    assert 'data-testid="server-error"' in response.content.decode()


def test_a_request_refused_before_the_dashboard_is_the_dashboards_400_page(
    viewer: Client,
) -> None:
    response = viewer.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    html = response.content.decode()
    looks_like_the_dashboard(html)
    assert "<title>Bad request · redis-sessions</title>" in html
