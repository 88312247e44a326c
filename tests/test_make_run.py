"""`make run` end to end: `python -m project.dev` with no REDIS_URL, as a developer runs it.

One module-scoped run on a fresh data folder (embedded Redis on a free port), Ctrl-C'd the way
a terminal does it (SIGINT to the foreground process group), then a second run on the same
folder. Everything it starts is found through /proc and must be gone after each Ctrl-C.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from project.dev import DevRunner, without_password
from project.redis_server import RedisServer, free_port
from sessions_core import RedisSessions, Session

BASE_DIR = Path(__file__).resolve().parent.parent
READY = "Ctrl-C stops everything."
START_TIMEOUT = 120.0  # generous: two cores shared with the rest of the suite
HOSTILE_ID = "<script>alert(1)</script>"
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def descendants(pid: int) -> dict[int, str]:
    """Every live process below `pid`, with its command line."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, str] = {}
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        try:
            found[child] = (Path("/proc") / str(child) / "cmdline").read_text().replace("\0", " ")
        except OSError:
            continue
        todo += children.get(child, [])
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Run:
    """What one `python -m project.dev` showed and left behind."""

    output: str = ""
    returncode: int | None = None
    login_status: int = 0
    processes: dict[int, str] = field(default_factory=dict)
    apps: list[str] = field(default_factory=list)
    hostile_sessions: list[Session] = field(default_factory=list)


def run_dev(data_dir: Path, port: int, redis_port: int) -> Run:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "RS_")) and k not in {"REDIS_URL", "DATABASE_URL"}
    }
    env |= {
        "PORT": str(port),
        "RS_DATA_DIR": str(data_dir),
        "RS_EMBEDDED_REDIS_PORT": str(redis_port),
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "project.dev"],
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own terminal-like process group, for the Ctrl-C
    )
    run = Run()
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line)
            if READY in line:
                ready.set()
        ready.set()  # output ended: the runner gave up

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(START_TIMEOUT), "no banner within the deadline:\n" + "".join(lines)
        assert child.poll() is None, "the runner exited:\n" + "".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as r:
            run.login_status = r.status
        run.processes = descendants(child.pid)
        url = re.search(r"Redis: (redis://\S+)", "".join(lines))
        assert url, "".join(lines)
        with RedisSessions(url=url[1]) as rs:
            run.apps = rs.apps()
            run.hostile_sessions = rs.soid(app="legacy-cms", id=HOSTILE_ID)["sessions"]
    finally:
        os.killpg(child.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            run.returncode = child.wait(timeout=60)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
            for pid in run.processes:  # leave nothing behind, whatever the assertions say
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
        reader.join(timeout=10)
        run.output = "".join(lines)
    return run


@dataclass
class Setup:
    port: int
    redis_port: int
    first: Run
    second: Run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    data_dir = tmp_path_factory.mktemp("make-run")
    port, redis_port = free_port(), free_port()
    while redis_port == port:
        redis_port = free_port()
    first = run_dev(data_dir, port, redis_port)
    second = run_dev(data_dir, port, redis_port)
    yield Setup(port, redis_port, first, second)


def test_serves_the_login_page_on_port(runs: Setup) -> None:
    assert runs.first.login_status == 200
    assert f"Dashboard: http://127.0.0.1:{runs.port}/" in runs.first.output


def test_starts_redis_migrations_demo_traffic_wipe_loop_and_dashboard(runs: Setup) -> None:
    commands = " | ".join(runs.first.processes.values())
    assert f"redis-server 127.0.0.1:{runs.redis_port}" in commands
    for command in ("simulate_traffic", "wipe_sessions --interval 60", "runserver"):
        assert command in commands
    assert f"Redis: redis://127.0.0.1:{runs.redis_port}/0 (embedded;" in runs.first.output


def test_first_start_seeds_the_demo(runs: Setup) -> None:
    assert runs.first.apps == ["admin_portal", "api_mobile", "forum", "legacy-cms", "shop"]
    assert re.search(r"Seeded \d+ users with \d+ sessions in 5 apps", runs.first.output)


def test_new_admin_password_is_printed_exactly_once(runs: Setup) -> None:
    [password] = re.findall(r"Created admin account: admin / (\S+)", runs.first.output)
    assert runs.first.output.count(password) == 1
    assert password not in runs.second.output


def test_ctrl_c_stops_everything_it_started(runs: Setup) -> None:
    for run in (runs.first, runs.second):
        assert run.returncode == 0, run.output
        assert len(run.processes) >= 4, run.processes
        assert [cmd for pid, cmd in run.processes.items() if alive(pid)] == []
    assert not port_open(runs.port)
    assert not port_open(runs.redis_port)
    assert "Traceback" not in runs.first.output + runs.second.output


def test_demo_sessions_survive_a_restart(runs: Setup) -> None:
    def shape(sessions: list[Session]) -> list[tuple[str, str, int]]:
        return sorted((s["id"], s["ip"], s["ttl"]) for s in sessions)

    assert runs.first.hostile_sessions
    assert shape(runs.second.hostile_sessions) == shape(runs.first.hostile_sessions)
    assert "Demo data not seeded: namespace 'rs' already holds" in runs.second.output
    assert "Admin account 'admin' already exists" in runs.second.output


def test_busy_port_is_refused_in_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env |= {"PORT": str(port), "RS_DATA_DIR": str(tmp_path)}
        result = subprocess.run(
            [sys.executable, "-m", "project.dev"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == (
        f"[dev] error: port {port} on 127.0.0.1 is in use; set PORT to another\n"
    )
    assert not (tmp_path / "redis").exists()


def test_second_runner_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    with open(tmp_path / "dev.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running `make run` holds it
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env |= {"PORT": str(free_port()), "RS_DATA_DIR": str(tmp_path)}
        result = subprocess.run(
            [sys.executable, "-m", "project.dev"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == (
        f"[dev] error: another `make run` is using {tmp_path}; stop it first or set RS_DATA_DIR\n"
    )


def test_demo_writes_only_into_the_embedded_redis_unless_asked() -> None:
    assert DevRunner({}).demo
    assert not DevRunner({"REDIS_URL": "redis://redis.example.com:6379/0"}).demo
    assert DevRunner({"REDIS_URL": "redis://redis.example.com:6379/0", "RS_DEMO": "on"}).demo
    assert not DevRunner({"RS_DEMO": "off"}).demo


def test_banner_shows_an_explicit_redis_url_without_its_password() -> None:
    assert without_password("rediss://ops:s3cret@redis.example.com:6380/2?ssl_cert_reqs=none") == (
        "rediss://redis.example.com:6380/2"
    )
    assert without_password("redis://:pw@[::1]:6379/0") == "redis://[::1]:6379/0"


def test_redis_left_over_on_the_same_data_folder_is_reported_not_doubled(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as leftover:  # as after a `kill -9` of the runner
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env |= {
            "PORT": str(free_port()),
            "RS_DATA_DIR": str(tmp_path),
            "RS_EMBEDDED_REDIS_PORT": str(leftover.port),
        }
        result = subprocess.run(
            [sys.executable, "-m", "project.dev"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert leftover.process is not None and leftover.process.poll() is None
    assert result.returncode == 1
    assert result.stdout == (
        f"[dev] error: a Redis left over from an earlier run still uses {tmp_path / 'redis'} "
        f"on port {leftover.port}; stop it first: redis-cli -p {leftover.port} shutdown\n"
    )
