"""`manage.py simulate_traffic`: light live traffic for demos, on its own sessions only."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sessions_core import RedisSessions

BASE_DIR = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r"[A-Za-z0-9]{64}")
FAST = ["--rate", "1000", "--seed", "7"]


def simulate(*args: str) -> str:
    out = io.StringIO()
    call_command("simulate_traffic", *args, stdout=out)
    return out.getvalue()


@pytest.mark.usefixtures("redis_settings")
def test_iterations_move_the_live_counts_of_every_app(rs: RedisSessions) -> None:
    apps = ["shop", "forum", "api_mobile"]

    output = simulate("--iterations", "120", *FAST)

    assert output.splitlines()[-1].startswith("Simulated 120 operations: ")
    for stat in rs.app_stats(apps=apps, windows=[60]):
        assert stat["active"][60] > 0, stat
    sessions = [s for app in apps for s in rs.soapp(app=app, delta_time=60)["sessions"]]
    assert any(s["r"] > 1 for s in sessions)
    assert any(s["w"] > 1 and s["d"]["last_page"] for s in sessions)


@pytest.mark.usefixtures("redis_settings")
def test_signs_out_some_of_its_own_sessions(rs: RedisSessions) -> None:
    output = simulate("--iterations", "300", "--apps", "shop", *FAST)

    created, killed = (int(n) for n in re.findall(r"(\d+) sign-(?:ins|outs)", output))
    assert killed > 0
    assert rs.app_stats(apps=["shop"])[0]["sessions"] == created - killed


@pytest.mark.usefixtures("redis_settings")
def test_existing_users_sign_in_on_one_more_device(rs: RedisSessions) -> None:
    rs.create(app="forum", id="nora.park7", ip="198.51.100.9", ttl=86400)

    simulate("--iterations", "200", "--apps", "forum", *FAST)

    assert len(rs.soid(app="forum", id="nora.park7")["sessions"]) > 1


@pytest.mark.usefixtures("redis_settings")
def test_leaves_sessions_it_did_not_create_untouched(rs: RedisSessions) -> None:
    token = rs.create(app="shop", id="100037", ip="192.0.2.1", ttl=86400)["token"]

    simulate("--iterations", "200", "--apps", "shop", *FAST)

    session = rs.get(app="shop", token=token)
    assert session is not None
    assert (session["r"], session["w"]) == (1, 1)


@pytest.mark.usefixtures("redis_settings")
def test_invalid_app_name_is_refused(rs: RedisSessions) -> None:
    with pytest.raises(CommandError, match="--apps: Invalid app format"):
        simulate("--iterations", "5", "--apps", "shop,no spaces")

    assert rs.apps() == []


def test_sigterm_stops_the_loop_cleanly_without_printing_tokens(
    redis_url: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RS_"))}
    env |= {"REDIS_URL": redis_url, "RS_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_traffic", "--rate", "50"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("Simulating traffic on shop, forum, api_mobile")
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=10)
    finally:
        child.kill()
    assert child.returncode == 0, err
    assert out.startswith("Simulated ")
    assert not TOKEN.search(out + err)
