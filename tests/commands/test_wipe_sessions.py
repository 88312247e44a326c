"""`manage.py wipe_sessions --once` in-process, and the library's wipe pass under concurrency."""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from io import StringIO

import pytest
import redis
from django.core.management import CommandError, call_command
from redis.backoff import EqualJitterBackoff

from dashboard.management.commands.wipe_sessions import StopFlag, retry_delay
from project.redis_server import free_port
from sessions_core import RedisSessions

from .wipe_data import (
    KEYS,
    session_traces,
    time_out,
    write_node_session,
    write_timed_out_backlog,
)

pytestmark = pytest.mark.usefixtures("redis_settings")

SUMMARY = re.compile(
    r"Removed (\d+) timed-out sessions in [\d.]+ s(?: \((.*)\))?; (\d+) sessions left\."
)


def wipe_once(*args: str) -> tuple[int, dict[str, int], int]:
    """Run `wipe_sessions --once`; returns (removed, per app, left) from its output."""
    out = StringIO()
    call_command("wipe_sessions", "--once", *args, stdout=out)
    match = SUMMARY.fullmatch(out.getvalue().strip())
    assert match, out.getvalue()
    per_app = {}
    if match[2]:
        for part in match[2].split(", "):
            app, _, n = part.rpartition(": ")
            per_app[app] = int(n)
    return int(match[1]), per_app, int(match[3])


def test_once_removes_exactly_the_timed_out_sessions_and_keeps_live_ones(
    rs: RedisSessions, r: redis.Redis
) -> None:
    ids = ["plain", "tenant:42:user:7", "Zoë 🍪 用户"]
    ours = {id: rs.create(app="pyapp", id=id, ip="10.0.0.1", ttl=3600)["token"] for id in ids}
    kept = {id: rs.create(app="pyapp", id=id, ip="10.0.0.2", ttl=3600)["token"] for id in ids}
    for token in ours.values():
        time_out(r, "pyapp", token)
    node_dead = {id: write_node_session(r, "nodeapp", id, timed_out=True) for id in ids}
    node_live = write_node_session(r, "nodeapp", "only-live", timed_out=False)

    removed, per_app, left = wipe_once()

    assert (removed, per_app, left) == (6, {"pyapp": 3, "nodeapp": 3}, 4)
    for id in ids:
        assert not any(session_traces(r, "pyapp", ours[id], id).values())
        assert not any(session_traces(r, "nodeapp", node_dead[id], id).values())
        assert all(session_traces(r, "pyapp", kept[id], id).values())
        # The user still has a live session in pyapp, and none left in nodeapp.
        assert r.zscore(KEYS.app_users("pyapp"), id) is not None
        assert r.zscore(KEYS.app_users("nodeapp"), id) is None
        live = rs.get(app="pyapp", token=kept[id])
        assert live is not None and live["id"] == id
    assert all(session_traces(r, "nodeapp", node_live, "only-live").values())


def test_once_with_nothing_timed_out_removes_nothing(rs: RedisSessions) -> None:
    rs.create(app="pyapp", id="u1", ip="10.0.0.1", ttl=3600)

    assert wipe_once() == (0, {}, 1)


def test_an_index_entry_naming_no_session_is_dropped_without_being_counted(
    r: redis.Redis,
) -> None:
    r.zadd(KEYS.all_sessions, {"garbage-without-colons": 1, "app:only-one-colon": 1})
    write_node_session(r, "nodeapp", "u1", timed_out=True)

    assert wipe_once() == (1, {"nodeapp": 1}, 0)


def test_every_pass_stores_its_report_for_the_dashboard(rs: RedisSessions, r: redis.Redis) -> None:
    write_timed_out_backlog(r, 30, apps=2)

    wipe_once()

    report = rs.last_wipe()
    assert report is not None
    assert (report["removed"], report["per_app"], report["remaining"]) == (
        30,
        {"app0": 15, "app1": 15},
        0,
    )
    assert report["duration"] >= 0


def test_once_registers_apps_that_only_a_node_app_wrote(r: redis.Redis) -> None:
    write_node_session(r, "nodeonly", "u1", timed_out=False)

    wipe_once()

    assert r.smembers(KEYS.apps_registry) == {"nodeonly"}


def test_no_discover_skips_the_app_registry(r: redis.Redis) -> None:
    write_node_session(r, "nodeonly", "u1", timed_out=False)

    wipe_once("--no-discover")

    assert r.smembers(KEYS.apps_registry) == set()


def test_discovery_cut_short_registers_what_it_found_and_drops_nothing(
    rs: RedisSessions, r: redis.Redis
) -> None:
    for i in range(30):
        write_node_session(r, f"nodeapp{i}", "u1", timed_out=False)
    r.sadd(KEYS.apps_registry, "gone_app")

    found = rs.discover_apps(count=1, should_stop=lambda: True)

    assert len(found) < 30
    assert r.smembers(KEYS.apps_registry) == {*found, "gone_app"}
    assert len(rs.discover_apps()) == 30
    assert "gone_app" not in r.smembers(KEYS.apps_registry)


def test_an_interval_below_one_second_is_refused(settings: object) -> None:
    settings.RS_WIPE_INTERVAL = 0  # type: ignore[attr-defined]

    with pytest.raises(CommandError, match="RS_WIPE_INTERVAL must be at least 1"):
        call_command("wipe_sessions")


def test_a_large_backlog_logs_progress_lines_when_not_on_a_terminal(
    r: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    write_timed_out_backlog(r, 300)
    caplog.set_level(logging.INFO, logger="dashboard.wipe_sessions")

    removed, _, left = wipe_once("--batch", "10", "--progress-every", "0.000001")

    assert (removed, left) == (300, 0)
    progress = [m for m in caplog.messages if m.startswith("Wipe in progress")]
    assert (
        progress
        and progress[-1] == "Wipe in progress: 300 of 300 timed-out sessions removed (100%)"
    )


def test_once_fails_with_a_clear_error_when_redis_is_unreachable(settings: object) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # type: ignore[attr-defined]

    with pytest.raises(CommandError, match=r"Redis is unreachable \(ConnectionError\)"):
        call_command("wipe_sessions", "--once", stdout=StringIO())


def test_two_wipe_passes_at_once_remove_each_session_once(redis_url: str, r: redis.Redis) -> None:
    write_timed_out_backlog(r, 3000)
    wipers = [RedisSessions(url=redis_url) for _ in range(2)]
    progressed = [threading.Event(), threading.Event()]
    reports = [None, None]

    def run(i: int) -> None:
        def interleave(_removed: int, _backlog: int) -> None:
            # Each wiper waits after its first batch until the other has done one too, so
            # the two passes really overlap.
            progressed[i].set()
            progressed[1 - i].wait(timeout=10)

        reports[i] = wipers[i].wipe_pass(batch=50, progress=interleave)  # type: ignore[call-overload]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for w in wipers:
        w.close()

    first, second = reports
    assert first is not None and second is not None
    assert first["removed"] > 0 and second["removed"] > 0
    assert first["removed"] + second["removed"] == 3000
    for app in ("app0", "app1", "app2"):
        assert first["per_app"].get(app, 0) + second["per_app"].get(app, 0) == 1000
    assert r.zcard(KEYS.all_sessions) == 0
    assert r.keys() == [KEYS.wipe_report]  # no session key or index entry is left


@pytest.mark.parametrize("batch", [0, 5001, True])
def test_wipe_pass_refuses_a_batch_lua_could_not_unpack(rs: RedisSessions, batch: int) -> None:
    with pytest.raises(ValueError, match="batch must be an integer from 1 to 5000"):
        rs.wipe_pass(batch=batch)


def test_the_command_refuses_a_batch_over_the_maximum() -> None:
    with pytest.raises(CommandError, match=r"--batch: invalid int value: '5001'"):
        call_command("wipe_sessions", "--once", "--batch", "5001")


def test_retry_delays_grow_to_the_cap_and_stay_there_through_a_day_long_outage() -> None:
    backoff = EqualJitterBackoff(cap=60, base=0.5)

    assert 0.5 <= retry_delay(backoff, 1) <= 1
    assert 30 <= retry_delay(backoff, 10) <= 60
    assert 30 <= retry_delay(backoff, 2000) <= 60  # 2000 failures: a day and a half


def test_a_stop_set_by_a_signal_handler_ends_the_wait_at_once() -> None:
    # The handler runs in the waiting thread itself; threading.Event.set() there could
    # deadlock on the lock its own wait() held (the service hung on SIGTERM about one run in
    # eight). StopFlag takes no lock: a flag and a byte on a pipe.
    stop = StopFlag()
    previous = signal.signal(signal.SIGALRM, lambda _signum, _frame: stop.set())
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        started = time.monotonic()
        assert stop.wait(30) is True
        assert time.monotonic() - started < 5
        assert stop.is_set() and stop.wait(30) is True  # stays set; no second sleep
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        stop.close()
