"""Clients from URLs: standalone and Sentinel URLs read, malformed ones refused clearly."""

from __future__ import annotations

import pytest

from sessions_core import RedisSessions
from sessions_core.connect import SentinelURL, parse_sentinel_url


def test_a_sentinel_url_names_every_sentinel_the_service_the_db_and_the_credentials() -> None:
    found = parse_sentinel_url("redis+sentinel://user:p%40ss@10.0.0.1:26379,[::1]:26380/prod/2")
    assert found == SentinelURL(
        sentinels=[("10.0.0.1", 26379), ("::1", 26380)],
        service="prod",
        db=2,
        username="user",
        password="p@ss",
    )
    assert "p@ss" not in found.describe() and "prod" in found.describe()


def test_the_db_defaults_to_0_and_other_schemes_are_not_sentinel_urls() -> None:
    found = parse_sentinel_url("redis+sentinel://h:1/svc")
    assert found is not None and found.db == 0 and found.password is None
    assert parse_sentinel_url("redis://127.0.0.1:6379/0") is None
    assert parse_sentinel_url("unix:///tmp/redis.sock") is None


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://h:1",
        "redis+sentinel://h:1/",
        "redis+sentinel://h/svc",
        "redis+sentinel://h:port/svc",
        "redis+sentinel:///svc",
        "redis+sentinel://h:1/svc/db",
        "redis+sentinel://h:1/svc/0/extra",
    ],
)
def test_a_malformed_sentinel_url_is_refused_with_the_expected_form(url: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        RedisSessions(url=url)
