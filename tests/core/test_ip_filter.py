"""Sessions of an app filtered by ip, exact or by prefix, within a window; bounded."""

from __future__ import annotations

import pytest
import redis

from sessions_core import RedisSessions, SessionPage

from .conftest import APP
from .helpers import age_session


def _ips(page: SessionPage) -> list[str]:
    return [row["session"]["ip"] for row in page["rows"]]


def test_an_exact_ip_and_an_ip_prefix_within_the_window(rs: RedisSessions, r: redis.Redis) -> None:
    made = {
        ip: rs.create(app=APP, id=f"u-{ip}", ip=ip)["token"]
        for ip in ("10.0.0.1", "10.0.0.12", "10.1.0.1", "192.168.0.1", "::1")
    }
    age_session(r, APP, made["10.0.0.12"], 30)
    age_session(r, APP, made["10.1.0.1"], 7200)  # outside a 1 h window
    exact = rs.ip_page(app=APP, ip="10.0.0.1", delta_time=3600)
    assert _ips(exact) == ["10.0.0.1"] and exact["complete"] is True
    prefixed = rs.ip_page(app=APP, ip="10.", prefix=True, delta_time=3600)
    assert _ips(prefixed) == ["10.0.0.1", "10.0.0.12"]  # newest first; 10.1.0.1 too old
    everything = rs.ip_page(app=APP, ip="10.", prefix=True, delta_time=86400)
    assert sorted(_ips(everything)) == ["10.0.0.1", "10.0.0.12", "10.1.0.1"]
    assert rs.ip_page(app=APP, ip="::", prefix=True, delta_time=60)["total"] == 1


def test_the_walk_is_bounded_and_says_when_it_stopped_early(rs: RedisSessions) -> None:
    rs.create_many(app=APP, sessions=[{"id": f"u{i}", "ip": "10.9.9.9"} for i in range(4500)])
    rs.create(app=APP, id="needle", ip="172.16.0.1")
    # One step of 2000 of the 4501 sessions: the walk stops with the window unfinished.
    found = rs.ip_page(app=APP, ip="172.16.0.1", delta_time=600, budget=2000)
    assert found["complete"] is False
    full = rs.ip_page(app=APP, ip="172.16.0.1", delta_time=600)
    assert full["complete"] is True and full["total"] == 1
    many = rs.ip_page(app=APP, ip="10.9.9.9", delta_time=600, limit=50)
    assert many["total"] == 50 and many["complete"] is False


def test_the_walk_also_stops_after_its_time_budget(
    rs: RedisSessions, r: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    rs.create_many(app=APP, sessions=[{"id": f"u{i}", "ip": "10.9.9.9"} for i in range(4500)])
    monkeypatch.setattr("sessions_core.reads.IP_SECONDS", 0.0)  # out of time after one step
    rs.ip_page(app="other", ip="1", delta_time=600)  # the script loaded: no NOSCRIPT below
    r.config_resetstat()
    page = rs.ip_page(app=APP, ip="172.16.0.1", delta_time=600)
    assert page["complete"] is False and page["total"] == 0
    assert r.info("commandstats")["cmdstat_evalsha"]["calls"] == 1  # 2000 of the 4500 walked
