"""Start and stop a throwaway PostgreSQL server, the way `project.redis_server` does for Redis.

The cluster lives in a fresh temporary directory, the server listens on a free port of
127.0.0.1 and keeps its unix socket in that directory, never in the system's socket
directory: tests never touch a PostgreSQL they did not start.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from project.redis_server import free_port

DEBIAN_ROOT = Path("/usr/lib/postgresql")  # one <version>/bin per installed major version
BINARIES = ("initdb", "pg_ctl", "postgres")
# initdb and postgres refuse to run as root, and tests and CI run as root. `nobody` exists on
# every Debian system and shares no files with the system server (whose `postgres` account
# could reach that server's data directory).
SERVER_USER = "nobody"
# A throwaway cluster needs no durability: no waiting for fsync on every commit.
SERVER_CONFIG = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
"""


def _version(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name))


def postgres_bin_dir() -> Path | None:
    """The directory of `initdb`, `pg_ctl` and `postgres`: PATH's first, else Debian's newest."""
    candidates = []
    if on_path := shutil.which("initdb"):
        # initdb finds `postgres` beside its real file, so a symlink's target directory counts.
        candidates.append(Path(on_path).resolve().parent)
    candidates += sorted(DEBIAN_ROOT.glob("*/bin"), key=_version, reverse=True)
    for bin_dir in candidates:
        if all(os.access(bin_dir / name, os.X_OK) for name in BINARIES):
            return bin_dir
    return None


def server_account() -> pwd.struct_passwd | None:
    """The account the server's commands run as: SERVER_USER under root, else none (this one)."""
    return pwd.getpwnam(SERVER_USER) if os.geteuid() == 0 else None


def setpriv_as(account: pwd.struct_passwd) -> list[str]:
    """A command prefix that drops root for `account` (setpriv: no PAM session, no login shell)."""
    uid, gid = account.pw_uid, account.pw_gid
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


class PostgresServer:
    """A PostgreSQL server on 127.0.0.1:<port>: trust authentication, superuser `user`."""

    def __init__(self, bin_dir: Path, port: int | None = None, user: str = "rs_test") -> None:
        self.bin_dir = Path(bin_dir)
        self.port = port or free_port()
        self.user = user
        self.root: Path | None = None

    @property
    def socket_dir(self) -> Path:
        if self.root is None:
            raise RuntimeError("the PostgreSQL server is not started")
        return self.root

    @property
    def data_dir(self) -> Path:
        return self.socket_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.socket_dir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: int = 30) -> PostgresServer:
        # Not under pytest's tmp_path: its base directory is private to root, so the server
        # user could not reach it. A long $TMPDIR can break the socket's 107-byte path limit.
        self.root = Path(tempfile.mkdtemp(prefix="rs-postgres-"))
        if account := server_account():
            os.chown(self.root, account.pw_uid, account.pw_gid)
        try:
            self._run(
                "initdb",
                f"--pgdata={self.data_dir}",
                f"--username={self.user}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
            socket_dir = str(self.socket_dir).replace("'", "''")
            with (self.data_dir / "postgresql.conf").open("a") as conf:
                conf.write(SERVER_CONFIG.format(port=self.port, socket_dir=socket_dir))
            # --wait: pg_ctl returns once the server accepts connections or has failed.
            self._run(
                "pg_ctl",
                "start",
                f"--pgdata={self.data_dir}",
                f"--log={self.log_file}",
                "--wait",
                f"--timeout={timeout}",
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.root is None:
            return
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", f"--pgdata={self.data_dir}", "--mode=fast", "--wait")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _run(self, binary: str, *args: str) -> None:
        command = [str(self.bin_dir / binary), *args]
        if account := server_account():
            command = [*setpriv_as(account), *command]
        result = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise RuntimeError(
                f"{binary} failed (exit {result.returncode}) for the test PostgreSQL on port "
                f"{self.port}:\n{result.stdout}{result.stderr}{log}"
            )

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
