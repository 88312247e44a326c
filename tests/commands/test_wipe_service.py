"""`manage.py wipe_sessions` as a service: a real child process against a real Redis.

The tests learn what the child did from its log lines (stderr), never from sleeps.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import queue
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from project.redis_server import RedisServer, free_port

from .wipe_data import KEYS, write_node_session, write_timed_out_backlog

ROOT = Path(__file__).resolve().parents[2]
STOP_DEADLINE = 2.0  # the promise: exit 0 within 2 s of SIGTERM/SIGINT
LINE_DEADLINE = 20.0  # generous: the child starts Django first


class Wiper:
    """A `manage.py wipe_sessions` child process whose log lines can be awaited."""

    def __init__(self, redis_url: str, *args: str, env: dict[str, str] | None = None) -> None:
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "RS_NAMESPACE": "rs",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "wipe_sessions", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stderr is not None
        threading.Thread(target=self._read, args=(self.process.stderr,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = LINE_DEADLINE) -> re.Match[str]:
        """The first not-yet-read log line matching `pattern`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; saw {self.seen}") from None
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_DEADLINE)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def wipers() -> Iterator[list[Wiper]]:
    started: list[Wiper] = []
    yield started
    for wiper in started:
        wiper.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_loop_wipes_logs_each_pass_and_exits_0_on_a_stop_signal(
    redis_url: str, r: redis.Redis, wipers: list[Wiper], signum: int
) -> None:
    write_timed_out_backlog(r, 20, apps=2)
    write_node_session(r, "app0", "live", timed_out=False)
    wiper = Wiper(redis_url, "--interval", "10")
    wipers.append(wiper)

    wiper.wait_for(
        r"Removed 20 timed-out sessions in [\d.]+ s \(app0: 10, app1: 10\); 1 sessions left"
    )

    assert wiper.stop(signum) == 0
    assert r.zcard(KEYS.all_sessions) == 1
    wiper.wait_for(f"Stopped by {signal.Signals(signum).name}")


def test_the_interval_comes_from_rs_wipe_interval_when_not_given(
    redis_url: str, wipers: list[Wiper]
) -> None:
    wiper = Wiper(redis_url, env={"RS_WIPE_INTERVAL": "1"})
    wipers.append(wiper)

    wiper.wait_for(r"Wiping timed-out sessions every 1 s\.")
    wiper.wait_for("Removed 0 timed-out sessions")
    wiper.wait_for("Removed 0 timed-out sessions")  # a second pass, a second later
    assert wiper.stop() == 0


def test_on_a_terminal_a_large_backlog_shows_a_progress_bar(redis_url: str, r: redis.Redis) -> None:
    write_timed_out_backlog(r, 300)
    controller, terminal = pty.openpty()
    # 24 rows, 100 columns: a fresh pty has no size, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = {**os.environ, "REDIS_URL": redis_url, "RS_NAMESPACE": "rs"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "wipe_sessions", "--once", "--batch", "10"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    shown = b""
    with contextlib.suppress(OSError):  # EIO once the child has closed the terminal
        while chunk := os.read(controller, 4096):
            shown += chunk
    os.close(controller)
    out, _ = process.communicate(timeout=30)

    assert process.returncode == 0
    assert out.startswith(b"Removed 300 timed-out sessions")
    assert re.search(rb"wipe: 100%.*\| 300/300", shown), shown


def test_sigterm_during_a_pass_ends_it_after_the_current_batch_with_exit_0(
    redis_url: str, r: redis.Redis, wipers: list[Wiper]
) -> None:
    write_timed_out_backlog(r, 20_000)
    wiper = Wiper(redis_url, "--batch", "1", "--progress-every", "0.05", "--interval", "10")
    wipers.append(wiper)
    wiper.wait_for(r"Wipe in progress: \d+ of 20000")

    assert wiper.stop() == 0
    left = r.zcard(KEYS.all_sessions)
    assert 0 < left < 20_000
    removed = int(wiper.wait_for(r"Removed (\d+) timed-out sessions")[1])
    assert removed + left == 20_000
    wiper.wait_for("Stopped by SIGTERM")


def test_the_loop_survives_redis_going_away_and_carries_on_when_it_returns(
    tmp_path: Path, wipers: list[Wiper]
) -> None:
    server = RedisServer(tmp_path / "redis", port=free_port()).start()
    try:
        wiper = Wiper(server.url, "--interval", "1")
        wipers.append(wiper)
        wiper.wait_for("Removed 0 timed-out sessions")

        server.stop()
        wiper.wait_for(r"WARNING .*Redis is unreachable \(ConnectionError\).*; retrying in")
        wiper.wait_for(r"WARNING .*Redis is unreachable")  # still retrying, still alive
        server.start()
        client = redis.Redis.from_url(server.url, decode_responses=True)
        write_timed_out_backlog(client, 3)

        wiper.wait_for(r"Redis is reachable again after \d+ failed attempts")
        wiper.wait_for(r"Removed 3 timed-out sessions")
        assert client.zcard(KEYS.all_sessions) == 0
        client.close()
        assert wiper.stop() == 0
        assert not any("Traceback" in line for line in wiper.seen)
    finally:
        server.stop()


def test_two_wipers_at_once_remove_every_session_exactly_once(
    redis_url: str, r: redis.Redis
) -> None:
    write_timed_out_backlog(r, 5000)
    env = {**os.environ, "REDIS_URL": redis_url, "RS_NAMESPACE": "rs"}
    command = [sys.executable, "manage.py", "wipe_sessions", "--once", "--batch", "10"]
    both = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]

    removed = 0
    for process in both:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "Error" not in err and "Traceback" not in err
        match = re.fullmatch(r"Removed (\d+) timed-out sessions in .*\n", out)
        assert match, out
        removed += int(match[1])

    assert removed == 5000
    assert r.zcard(KEYS.all_sessions) == 0


def test_foreign_keys_are_logged_once_and_the_loop_never_dies_of_data(
    redis_url: str, r: redis.Redis, wipers: list[Wiper]
) -> None:
    token = write_node_session(r, "app0", "u1", timed_out=True)
    write_node_session(r, "app1", "u2", timed_out=True)
    r.delete(KEYS.app_sessions("app0"))
    r.set(KEYS.app_sessions("app0"), "another program's string")
    r.zadd(KEYS.all_sessions, {"nocolon": 1})
    r.sadd(KEYS.apps_registry, "bad app name")
    r.set(KEYS.wipe_report, "not our json")
    wiper = Wiper(redis_url, "--interval", "1")
    wipers.append(wiper)

    wiper.wait_for(r"Left 'rs:app0:_sessions' alone")
    wiper.wait_for(r"Removed 2 timed-out sessions .*\(app0: 1, app1: 1\); 0 sessions left")
    assert r.exists(KEYS.session("app0", token)) == 0
    # A global index of another type makes passes impossible, not the service dead.
    r.delete(KEYS.all_sessions)
    r.set(KEYS.all_sessions, "x")
    wiper.wait_for(r"Wipe pass impossible: .*another type")
    wiper.wait_for(r"Wipe pass impossible")  # the next pass tries again
    r.delete(KEYS.all_sessions)
    wiper.wait_for("Removed 0 timed-out sessions")
    assert sum("Left 'rs:app0:_sessions'" in line for line in wiper.seen) == 1
    assert wiper.stop() == 0
