"""Start and stop a private Redis Sentinel set-up on 127.0.0.1, for tests.

A primary, one replica (`--replicaof`) and 3 sentinels (`redis-server <file> --sentinel`, so no
separate redis-sentinel binary is needed) monitoring them as `rsmaster` with quorum 2, each on
a free port. Sentinels rewrite their configuration files: each has its own, in one temporary
directory that `stop()` removes with the logs. Nothing is persisted.

Fast detection for tests: `down-after-milliseconds` 1000, `failover-timeout` 3000, and the
sentinels' internal periods shortened with `SENTINEL DEBUG` (INFO every second, hello messages
every half second), so a failover takes a few seconds and a restarted server is seen at once.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import redis

from project.redis_cluster import HOST, RedisProcess, wait_until
from project.redis_server import free_port

SENTINEL_CONFIG = """\
bind {host}
port {port}
dir {dir}
logfile {logfile}
sentinel monitor {service} {host} {primary_port} {quorum}
sentinel down-after-milliseconds {service} {down_after_ms}
sentinel failover-timeout {service} {failover_timeout_ms}
sentinel parallel-syncs {service} 1
"""
# SENTINEL DEBUG (Redis 7.0+): the internal periods, in milliseconds. Not kept in the config
# file, so set again after every start.
SENTINEL_TIMING = {"info-period": 1000, "publish-period": 500, "tilt-period": 5000}


class SentinelServers:
    """A primary, `replicas` replicas and `sentinels` sentinels monitoring them."""

    def __init__(
        self,
        service_name: str = "rsmaster",
        replicas: int = 1,
        sentinels: int = 3,
        quorum: int = 2,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 3000,
    ) -> None:
        self.service_name = service_name
        self.replica_count = replicas
        self.sentinel_count = sentinels
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.dir: Path | None = None
        self.servers: dict[int, RedisProcess] = {}  # data servers: the primary and replicas
        self.sentinels: dict[int, RedisProcess] = {}
        self._primary_port = 0  # the primary as last seen: the one at start, then after failovers

    # --- addresses -------------------------------------------------------------------------

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [(HOST, port) for port in self.sentinels]

    @property
    def url(self) -> str:
        """`redis+sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/rsmaster/0`."""
        hosts = ",".join(f"{host}:{port}" for host, port in self.sentinel_addresses)
        return f"redis+sentinel://{hosts}/{self.service_name}/0"

    @property
    def primary_url(self) -> str:
        """A plain URL of the primary now (for checking what it holds, not for following it)."""
        return f"redis://{HOST}:{self.primary_port()}/0"

    def _reported_primaries(self) -> set[int]:
        """The primary ports the running sentinels report now: one when they agree."""
        ports = set()
        for sentinel in self._live_sentinels():
            with sentinel.client() as client:
                address = client.sentinel_get_master_addr_by_name(self.service_name)
            ports.add(int(address[1]))
        return ports

    def primary_port(self) -> int:
        """The primary's port as the sentinels report it now (all running ones agreeing)."""
        ports = self._reported_primaries()
        if len(ports) != 1:
            raise RuntimeError(f"the sentinels disagree on the primary: ports {sorted(ports)}")
        return ports.pop()

    def replica_ports(self) -> list[int]:
        return sorted(port for port in self.servers if port != self.primary_port())

    # --- life cycle ------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> SentinelServers:
        """Start the primary, then the replicas (in sync), then the sentinels; return once
        every sentinel sees the primary, the replicas and the other sentinels. On failure,
        whatever was started is stopped again."""
        self.dir = Path(tempfile.mkdtemp(prefix="redis-sentinel-"))
        deadline = time.monotonic() + timeout
        try:
            taken: set[int] = set()
            ports = [self._free_port(taken) for _ in range(1 + self.replica_count)]
            self._primary_port = ports[0]
            for port in ports:
                self.servers[port] = self._server(port)
                self.servers[port].start(timeout=max(1.0, deadline - time.monotonic()))
            for _ in range(self.sentinel_count):
                port = self._free_port(taken)
                self.sentinels[port] = self._sentinel(port)
                self.sentinels[port].start(timeout=max(1.0, deadline - time.monotonic()))
                self._tune(self.sentinels[port])
            self.wait_until_healthy(timeout=max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """End every process (sentinels first: no failover while stopping) and remove the
        temporary directory."""
        for process in [*self.sentinels.values(), *self.servers.values()]:
            process.stop()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> SentinelServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _free_port(taken: set[int]) -> int:
        while True:
            port = free_port()
            if port not in taken:
                taken.add(port)
                return port

    def _server(self, port: int) -> RedisProcess:
        """The arguments of a data server; replicas of `self._primary_port` unless it is it."""
        assert self.dir is not None
        server_dir = self.dir / f"server-{port}"
        server_dir.mkdir(exist_ok=True)
        args = [
            "--bind",
            HOST,
            "--port",
            str(port),
            "--dir",
            str(server_dir),
            "--logfile",
            str(server_dir / "redis.log"),
            "--daemonize",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            # A replica (re)joining is served at once, not after the 5 s default wait for others.
            "--repl-diskless-sync-delay",
            "0",
        ]
        if port != self._primary_port:
            args += ["--replicaof", HOST, str(self._primary_port)]
        return RedisProcess(port, args, server_dir / "redis.log")

    def _sentinel(self, port: int) -> RedisProcess:
        assert self.dir is not None
        sentinel_dir = self.dir / f"sentinel-{port}"
        sentinel_dir.mkdir()
        config = sentinel_dir / "sentinel.conf"
        config.write_text(
            SENTINEL_CONFIG.format(
                host=HOST,
                port=port,
                dir=sentinel_dir,
                logfile=sentinel_dir / "sentinel.log",
                service=self.service_name,
                primary_port=self._primary_port,
                quorum=self.quorum,
                down_after_ms=self.down_after_ms,
                failover_timeout_ms=self.failover_timeout_ms,
            )
        )
        return RedisProcess(port, [str(config), "--sentinel"], sentinel_dir / "sentinel.log")

    @staticmethod
    def _tune(sentinel: RedisProcess) -> None:
        args: list[str | int] = []
        for name, value in SENTINEL_TIMING.items():
            args += [name, value]
        with sentinel.client() as client:
            client.execute_command("SENTINEL", "DEBUG", *args)

    # --- state -----------------------------------------------------------------------------

    def _live_sentinels(self) -> list[RedisProcess]:
        return [sentinel for sentinel in self.sentinels.values() if sentinel.alive]

    def _role(self, port: int) -> str | None:
        server = self.servers[port]
        if not server.alive:
            return None
        with server.client() as client:
            return str(client.info("replication")["role"])

    def healthy(self) -> bool:
        """Every process running; the primary a master and every replica in sync with it;
        every sentinel seeing that primary up, every replica up and in sync, and the others."""
        try:
            return self._healthy()
        except (redis.RedisError, RuntimeError):
            return False

    def _healthy(self) -> bool:
        if not all(process.alive for process in [*self.servers.values(), *self.sentinels.values()]):
            return False
        primary = self.primary_port()
        if self._role(primary) != "master":
            return False
        replicas = {port for port in self.servers if port != primary}
        for port in replicas:
            with self.servers[port].client() as client:
                info = client.info("replication")
            if info.get("master_port") != primary or info.get("master_link_status") != "up":
                return False
        for sentinel in self.sentinels.values():
            with sentinel.client() as client:
                master = client.sentinel_master(self.service_name)
                seen = client.sentinel_slaves(self.service_name)
            if not master["is_master"] or master["is_sdown"] or master["is_odown"]:
                return False
            if master["num-other-sentinels"] != self.sentinel_count - 1:
                return False
            up = {
                int(replica["port"])
                for replica in seen
                if not replica["is_sdown"]
                and not replica["is_disconnected"]
                and replica.get("master-link-status") == "ok"
                and int(replica.get("master-port", 0)) == primary
            }
            if up != replicas:
                return False
        self._primary_port = primary
        return True

    def wait_until_healthy(self, timeout: float = 30.0) -> None:
        wait_until(
            self._healthy, timeout, f"the Sentinel set-up {self.service_name!r} to be healthy"
        )

    # --- faults ----------------------------------------------------------------------------

    def kill_primary(self) -> int:
        """SIGKILL the primary; returns its port."""
        port = self.primary_port()
        self._primary_port = port
        self.servers[port].kill()
        return port

    def wait_for_failover(self, timeout: float = 15.0) -> int:
        """Wait until every sentinel names a new primary, a running server that says it is a
        master; returns its port."""
        old_port = self._primary_port

        def promoted() -> int | None:
            ports = self._reported_primaries()
            if len(ports) != 1:
                return None
            port = ports.pop()
            if port == old_port or self._role(port) != "master":
                return None
            return port

        port = wait_until(promoted, timeout, f"a replica to take over from port {old_port}")
        self._primary_port = port
        return port

    def restart(self, port: int, timeout: float = 30.0) -> None:
        """Start a stopped data server again, as a replica of the primary now (call it after
        `wait_for_failover` when it was the primary), and wait until all is healthy."""
        self.servers[port] = self._server_like(port)
        self.servers[port].start()
        self.wait_until_healthy(timeout)

    def _server_like(self, port: int) -> RedisProcess:
        self._primary_port = self.primary_port()
        return self._server(port)

    def heal(self, timeout: float = 60.0) -> None:
        """Bring a set-up a test left broken back to health: wait for a pending failover,
        restart stopped servers as replicas, wait until all are in sync. Does nothing when
        healthy."""
        if self.healthy():
            return
        deadline = time.monotonic() + timeout
        for sentinel in self.sentinels.values():
            if not sentinel.alive:
                sentinel.start()
                self._tune(sentinel)
        if not self.servers[self._primary_port].alive:
            self.wait_for_failover(timeout=max(1.0, deadline - time.monotonic()))
        for port, server in list(self.servers.items()):
            if not server.alive:
                self.servers[port] = self._server_like(port)
                self.servers[port].start()
        self.wait_until_healthy(timeout=max(1.0, deadline - time.monotonic()))

    def flushall(self, timeout: float = 30.0) -> None:
        """FLUSHALL on the primary, acknowledged by its replicas (WAIT). Right after a failover
        the sentinels may still name a server that has just become a replica (READONLY):
        asked again until the primary they name takes it."""

        def flushed() -> bool:
            with self.servers[self.primary_port()].client() as client:
                pipe = client.pipeline(transaction=False)
                pipe.flushall()
                pipe.wait(self.replica_count, 5000)
                pipe.execute()
            return True

        wait_until(flushed, timeout, "FLUSHALL on the primary the sentinels name")
