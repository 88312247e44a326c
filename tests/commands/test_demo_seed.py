"""`manage.py seed_demo`: realistic demo sessions, written through the library."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sessions_core import RedisSessions

pytestmark = pytest.mark.usefixtures("redis_settings")
DEMO_APPS = ["admin_portal", "api_mobile", "forum", "legacy-cms", "shop"]


def seed_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seeds_several_apps_and_hundreds_of_users(rs: RedisSessions) -> None:
    output = seed_demo("--seed", "1")

    assert rs.apps() == DEMO_APPS
    stats = {s["app"]: s for s in rs.app_stats(apps=rs.apps())}
    users = sum(s["users"] for s in stats.values())
    sessions = sum(s["sessions"] for s in stats.values())
    assert users == 500
    assert output == f"Seeded 500 users with {sessions} sessions in 5 apps (namespace 'rs').\n"


def test_some_users_are_signed_in_on_several_devices(rs: RedisSessions) -> None:
    seed_demo("--seed", "2")

    for stat in rs.app_stats(apps=["shop", "forum", "api_mobile"]):
        assert stat["sessions"] > stat["users"] * 1.1, stat


def test_activity_is_spread_over_the_last_day(rs: RedisSessions) -> None:
    seed_demo("--seed", "3")

    [shop] = rs.app_stats(apps=["shop"])
    active = shop["active"]
    assert 0 < active[60] < active[600] < active[3600] < active[86400] <= shop["users"]
    hours = rs.activity_histogram(app="shop", bucket=3600, buckets=24)
    assert sum(1 for users in hours if users) >= 20, hours


def test_sessions_carry_d_data_and_varied_read_and_write_counts(rs: RedisSessions) -> None:
    seed_demo("--seed", "4")

    shop = rs.soapp(app="shop", delta_time=86400)["sessions"]
    assert 0.3 < sum(1 for s in shop if "d" in s) / len(shop) < 0.9
    assert {s["r"] for s in shop} >= {1, 2, 3}
    assert {s["w"] for s in shop} == {1, 2}
    portal = rs.soapp(app="admin_portal", delta_time=86400)["sessions"]
    assert portal and all(s.get("no_resave") and s["d"]["mfa"] is True for s in portal)


def test_hostile_looking_ids_are_stored_as_plain_users(rs: RedisSessions) -> None:
    seed_demo("--seed", "5", "--users", "40")

    for id in ("<script>alert(1)</script>", "a/b:c?d#e%f", "🦄 unicorn@example.com"):
        [session, *_] = rs.soid(app="legacy-cms", id=id)["sessions"]
        assert session["id"] == id


def test_every_seeded_session_is_alive_for_at_least_ten_minutes(rs: RedisSessions) -> None:
    seed_demo("--seed", "6")

    assert rs.wipe() == 0
    rows = rs.soapp_page(app="admin_portal", delta_time=86400, limit=1000)["rows"]
    assert min(row["expires_in"] for row in rows) >= 590


def test_users_option_sets_the_size(rs: RedisSessions) -> None:
    seed_demo("--users", "60")

    assert sum(s["users"] for s in rs.app_stats(apps=rs.apps())) == 60


def test_if_empty_seeds_an_empty_namespace_once(rs: RedisSessions) -> None:
    first = seed_demo("--if-empty", "--users", "40")
    before = rs.app_stats(apps=rs.apps())

    second = seed_demo("--if-empty", "--users", "40")

    assert first.startswith("Seeded 40 users")
    assert second.startswith("Demo data not seeded: namespace 'rs' already holds")
    assert rs.app_stats(apps=rs.apps()) == before


def test_if_empty_leaves_a_namespace_with_foreign_sessions_alone(rs: RedisSessions) -> None:
    rs.create(app="production", id="real-user", ip="192.0.2.1")

    output = seed_demo("--if-empty")

    assert "already holds 1 sessions (production)" in output
    assert rs.apps() == ["production"]


def test_too_few_users_is_refused_before_anything_is_written(rs: RedisSessions) -> None:
    with pytest.raises(CommandError, match="--users"):
        seed_demo("--users", "5")

    assert rs.apps() == []
