"""`make run`: the whole development setup in one process tree, stopped by one Ctrl-C.

    PORT=8000 python -m project.dev

Without REDIS_URL it starts an embedded Redis (data kept in $RS_DATA_DIR/redis, so demo
sessions survive a restart) on 127.0.0.1:$RS_EMBEDDED_REDIS_PORT (6390; a free port when
that one is taken) and passes its URL to everything below. Then: migrate, make sure an
admin account exists (a generated password is shown once, in the banner), seed demo data
into an empty namespace, and run the simulated traffic, the wipe loop and the dashboard
on 127.0.0.1:$PORT. With an explicit REDIS_URL the demo (seed and traffic) is off unless
RS_DEMO=on: it must never write fake sessions into a real store by accident.

Ctrl-C or SIGTERM stops the dashboard, then the traffic and the wipe loop, then Redis
(which saves its data). No Django import here: settings are read by the children.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib.util
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import redis

from project.redis_server import RedisServer, free_port

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REDIS_PORT = 6390
WIPE_INTERVAL = 60
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stop(Exception):
    """Ctrl-C, SIGTERM or SIGHUP: shut everything down in order."""


class StepFailed(Exception):
    """A setup step or a service failed; the message says which."""


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def _stop_requested(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM if the runner dies without cleaning up."""
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def without_password(url: str) -> str:
    """A Redis URL fit for the terminal: credentials and query dropped."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def redis_dir(port: int) -> Path | None:
    """The data folder of a Redis on 127.0.0.1:port, or None when none answers there."""
    client = redis.Redis(port=port, socket_timeout=1, decode_responses=True)
    try:
        found = client.config_get("dir").get("dir")
        return Path(found).resolve() if found else None
    except redis.RedisError:
        return None
    finally:
        client.close()


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def exclusive(data_dir: Path) -> Iterator[None]:
    """Hold a lock on the data folder: two runners must not share one Redis data dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "dev.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StepFailed(
                f"another `make run` is using {data_dir}; stop it first or set RS_DATA_DIR"
            ) from None
        yield


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """Children started here inherit a blocked SIGINT, so a Ctrl-C at the terminal (sent to
    the whole foreground process group) does not reach them: the runner stops them itself,
    in order."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class DevRunner:
    def __init__(self, environ: dict[str, str]) -> None:
        self.port = int(environ.get("PORT") or 8000)
        self.redis_port = int(environ.get("RS_EMBEDDED_REDIS_PORT") or DEFAULT_REDIS_PORT)
        self.data_dir = Path(environ.get("RS_DATA_DIR") or BASE_DIR / "data").resolve()
        self.env = dict(environ)
        self.env |= {"RS_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1"}
        self.embedded = not environ.get("REDIS_URL")
        default_demo = "on" if self.embedded else "off"
        self.demo = (environ.get("RS_DEMO") or default_demo).lower() in {"on", "1", "true", "yes"}
        self.redis: RedisServer | None = None
        self.services: list[tuple[str, subprocess.Popen[str]]] = []
        self.login = ""  # what ensure_admin said, shown once: in the banner or at the end
        self.wiping = False

    # -- start --------------------------------------------------------------------------------

    def start(self) -> None:
        if not port_is_free(self.port):
            raise StepFailed(f"port {self.port} on 127.0.0.1 is in use; set PORT to another")
        if self.embedded:
            self.start_redis()
        say("migrating the database")
        self.steps(("migrate", "--noinput", "-v", "0"))
        self.service("dashboard", "runserver", f"127.0.0.1:{self.port}", "--noreload")
        self.wiping = bool(importlib.util.find_spec("dashboard.management.commands.wipe_sessions"))
        if self.wiping:
            self.service("wipe loop", "wipe_sessions", "--interval", str(WIPE_INTERVAL))
        # Independent steps side by side: each is a Django start-up of a second or two.
        seed = [("seed_demo", "--if-empty")] if self.demo else []
        self.login, *_ = self.steps(("ensure_admin",), *seed)
        if self.demo:  # after the seed, which only writes into an empty namespace
            self.service("simulated traffic", "simulate_traffic")
        self.wait_until_serving()
        self.banner()

    def start_redis(self) -> None:
        data_dir = self.data_dir / "redis"
        port = self.redis_port
        if not port_is_free(port):
            if redis_dir(port) == data_dir:
                raise StepFailed(
                    f"a Redis left over from an earlier run still uses {data_dir} on port "
                    f"{port}; stop it first: redis-cli -p {port} shutdown"
                )
            port = free_port()
        self.redis = RedisServer(data_dir, port=port, persistent=True)
        say(f"starting the embedded Redis on 127.0.0.1:{port}")
        with sigint_blocked():
            self.redis.start()
        self.env["REDIS_URL"] = self.redis.url

    def spawn(self, args: tuple[str, ...], capture: bool = False) -> subprocess.Popen[str]:
        """`manage.py <args>` in its own process group: Ctrl-C reaches the runner only."""
        return subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else None,
            text=True,
            preexec_fn=_die_with_parent,  # safe: the runner has no threads
            process_group=0,
        )

    def steps(self, *commands: tuple[str, ...]) -> list[str]:
        """Run setup commands side by side to their end; the first one's output is returned
        (not shown), the others' go to the terminal."""
        processes = [self.spawn(args, capture=i == 0) for i, args in enumerate(commands)]
        try:
            outputs = [process.communicate()[0] or "" for process in processes]
        finally:
            for process in processes:
                if process.poll() is None:  # interrupted: do not leave a step behind
                    process.kill()
                    process.wait()
        for args, process in zip(commands, processes, strict=True):
            if process.returncode != 0:
                raise StepFailed(f"`manage.py {' '.join(args)}` failed (exit {process.returncode})")
        return outputs

    def service(self, name: str, *args: str) -> None:
        self.services.append((name, self.spawn(args)))

    def wait_until_serving(self) -> None:
        """Poll the login page: runserver has no readiness signal but its socket."""
        url = f"http://127.0.0.1:{self.port}/accounts/login/"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            self.check_services()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    response.read()
                return
            except urllib.error.HTTPError as error:
                say(f"warning: {url} answers {error.code}")
                return
            except OSError:
                time.sleep(0.1)
        raise StepFailed(f"the dashboard did not answer on {url} within {READY_TIMEOUT:g} s")

    def banner(self) -> None:
        if self.redis is not None:
            redis = f"{self.redis.url} (embedded; data in {self.redis.data_dir})"
        else:
            redis = f"{without_password(self.env['REDIS_URL'])} (from REDIS_URL)"
        lines = [
            f"Dashboard: http://127.0.0.1:{self.port}/",
            *self.take_login(),
            f"Redis: {redis}",
            "Demo: simulated traffic on" if self.demo else "Demo: off (RS_DEMO=on to seed)",
            f"Wipe loop: every {WIPE_INTERVAL} s" if self.wiping else "Wipe loop: not available",
            "Ctrl-C stops everything.",
        ]
        rule = "=" * 72
        print("\n".join(["", rule, *(f"  {line}" for line in lines), rule, ""]), flush=True)

    def take_login(self) -> list[str]:
        lines, self.login = self.login.strip().splitlines(), ""
        return lines

    # -- run ----------------------------------------------------------------------------------

    def check_services(self) -> None:
        for name, process in self.services:
            if process.poll() is not None:
                raise StepFailed(f"the {name} stopped unexpectedly (exit {process.returncode})")

    def watch(self) -> None:
        """Block until a signal arrives (raising Stop) or a service exits (StepFailed)."""
        pidfds = self.pidfds()
        try:
            while True:
                self.check_services()
                if pidfds:
                    select.select(pidfds, [], [])
                else:  # no pidfd_open (not Linux): look every second
                    time.sleep(1)
        finally:
            for fd in pidfds:
                os.close(fd)

    def pidfds(self) -> list[int]:
        if not hasattr(os, "pidfd_open"):
            return []
        return [os.pidfd_open(process.pid) for _, process in self.services]

    # -- stop ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Dashboard first, then the writers, then Redis, so nothing writes to a dead store."""
        for name, process in self.services:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                say(f"the {name} did not stop within {STOP_TIMEOUT:g} s; killing it")
                process.kill()
                process.wait()
        self.services = []
        if self.redis is not None:
            self.redis.stop()
            say(f"embedded Redis stopped; its data is kept in {self.redis.data_dir}")
            self.redis = None


def main() -> int:
    try:
        runner = DevRunner(dict(os.environ))
    except ValueError as error:
        say(f"error: PORT and RS_EMBEDDED_REDIS_PORT must be port numbers ({error})")
        return 1
    for sig in STOP_SIGNALS:
        signal.signal(sig, _stop_requested)
    try:
        with exclusive(runner.data_dir):
            try:
                runner.start()
                runner.watch()
            except Stop:
                say("stopping everything")
            finally:
                for sig in STOP_SIGNALS:  # a second Ctrl-C must not cut the shutdown short
                    signal.signal(sig, signal.SIG_IGN)
                runner.stop()
                for line in runner.take_login():  # a new password not shown yet
                    say(line)
    except StepFailed as error:
        say(f"error: {error}")
        return 1
    except Stop:  # before anything was started
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
