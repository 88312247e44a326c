"""Start and stop a private Redis Cluster: 3 masters and 3 replicas on 127.0.0.1, for tests.

Six `redis-server` processes in cluster mode, each on a free port with a free cluster-bus port
(`--cluster-port`, so no port + 10000 has to be free), each with its own directory and
`nodes.conf` in one temporary directory; `redis-cli --cluster create ... --cluster-replicas 1`
forms the cluster. Nothing is persisted (`--save ""`, `--appendonly no`); `stop()` ends every
process and removes the directory. Faults are real: `kill_master()` sends SIGKILL and
`wait_for_failover()` waits, on deadlines, until a replica has taken over and every node agrees.

A short `cluster-node-timeout` (2 s) makes a failover take about 5 s, within the 15 s the
failover tests allow. `RedisProcess` and `wait_until` are shared with `project.redis_sentinel`.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import redis
from redis.cluster import ClusterNode

from project.redis_server import end_process, free_port, redis_server_binary

if TYPE_CHECKING:
    from project.tls import TlsFiles

HOST = "127.0.0.1"
SLOTS = 16384
T = TypeVar("T")
# One node's view of the cluster: (slot range, master port, replica ports) per slot range.
Topology = tuple[tuple[tuple[int, int], int, tuple[int, ...]], ...]


def wait_until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll `check` until it returns something truthy, and return that; RuntimeError at the
    deadline. Redis errors raised by `check` (a node still starting, a link still down) count
    as "not yet"; the last one is named in the error. Polling is the only readiness signal
    these servers offer."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = check()
            if result:
                return result
        except (redis.RedisError, OSError) as exc:
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}{detail}")
        time.sleep(0.05)


def redis_cli_binary() -> str:
    found = shutil.which("redis-cli")
    if not found:
        raise RuntimeError("redis-cli is not on PATH (Debian: apt-get install redis-tools)")
    return found


class RedisProcess:
    """One redis-server child process on 127.0.0.1:<port> (a data node or a sentinel), started
    with `args` after the binary; its log in `logfile`. `start()` returns once it answers PING."""

    def __init__(
        self, port: int, args: Sequence[str], logfile: Path, tls: TlsFiles | None = None
    ) -> None:
        self.port = port
        self.args = list(args)
        self.logfile = logfile
        self.tls = tls  # it serves TLS only, with these files
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self, timeout: float = 2.0) -> redis.Redis:
        """A plain client on this process (close it after use)."""
        return redis.Redis(
            host=HOST,
            port=self.port,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
            **(self.tls.client_kwargs() if self.tls else {}),
        )

    def start(self, timeout: float = 10.0) -> None:
        if self.alive:
            return
        # Its own session: a Ctrl-C in the terminal reaches the test runner, not the servers.
        self.process = subprocess.Popen(
            [redis_server_binary(), *self.args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def answers() -> bool:
            if not self.alive:
                raise RuntimeError(f"redis-server on port {self.port} exited; {self.log_tail()}")
            with self.client(timeout=0.5) as client:
                return bool(client.ping())

        wait_until(answers, timeout, f"redis-server on port {self.port} to answer PING")

    def kill(self) -> None:
        """SIGKILL: the crash of a machine, nothing flushed, no goodbye to the cluster."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            end_process(self.process)
        self.process = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.logfile.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return f"no log at {self.logfile}"
        return f"last lines of {self.logfile}:\n" + "\n".join(text)


@dataclass(frozen=True)
class ClusterMaster:
    """A master as the cluster sees it now."""

    port: int
    node_id: str
    slots: tuple[tuple[int, int], ...]  # inclusive ranges
    replica_ports: tuple[int, ...] = field(default=())


def _parse_info(text: str) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _command(client: redis.Redis, *args: str) -> str:
    """A CLUSTER subcommand's text reply (redis-py's execute_command is untyped)."""
    return str(client.execute_command(*args))  # type: ignore[no-untyped-call]


def _cluster_info(client: redis.Redis) -> dict[str, str]:
    return _parse_info(_command(client, "CLUSTER", "INFO"))


def _cluster_nodes(client: redis.Redis) -> list[list[str]]:
    """CLUSTER NODES, one list of fields per node."""
    return [line.split() for line in _command(client, "CLUSTER", "NODES").splitlines()]


def _port_of(address: str) -> int:
    return int(address.split("@", 1)[0].rsplit(":", 1)[1])


def _slot_ranges(fields: list[str]) -> tuple[tuple[int, int], ...]:
    ranges = []
    for item in fields[8:]:
        if item.startswith("["):  # a slot being migrated or imported
            continue
        first, _, last = item.partition("-")
        ranges.append((int(first), int(last or first)))
    return tuple(sorted(ranges))


class RedisClusterServers:
    """A Redis Cluster of `masters` masters with `replicas` replicas each, on 127.0.0.1."""

    def __init__(
        self,
        masters: int = 3,
        replicas: int = 1,
        node_timeout_ms: int = 2000,
        tls: TlsFiles | None = None,
    ) -> None:
        if masters < 3:
            raise ValueError("redis-cli --cluster create needs at least 3 masters")
        self.master_count = masters
        self.replicas_per_master = replicas
        self.node_timeout_ms = node_timeout_ms
        self.tls = tls  # TLS only, for clients, the cluster bus and replication alike
        self.dir: Path | None = None
        self.nodes: dict[int, RedisProcess] = {}
        self._node_ids: dict[int, str] = {}
        self._killed_slots: dict[int, tuple[tuple[int, int], ...]] = {}

    # --- addresses -------------------------------------------------------------------------

    @property
    def ports(self) -> list[int]:
        return list(self.nodes)

    def _url(self, port: int) -> str:
        return self.tls.url(port, HOST) if self.tls else f"redis://{HOST}:{port}/0"

    @property
    def urls(self) -> list[str]:
        return [self._url(port) for port in self.nodes]

    @property
    def startup_nodes(self) -> list[ClusterNode]:
        return [ClusterNode(HOST, port) for port in self.nodes]  # type: ignore[no-untyped-call]

    @property
    def url(self) -> str:
        """The URL of one node (a running one): enough for a cluster client to find the rest."""
        port = next((port for port, node in self.nodes.items() if node.alive), self.ports[0])
        return self._url(port)

    def node_id(self, port: int) -> str:
        return self._node_ids[port]

    # --- life cycle ------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> RedisClusterServers:
        """Start the processes, form the cluster, return once every node agrees and every
        replica is in sync. On failure, whatever was started is stopped again."""
        self.dir = Path(tempfile.mkdtemp(prefix="redis-cluster-"))
        count = self.master_count * (1 + self.replicas_per_master)
        try:
            taken: set[int] = set()
            for _ in range(count):
                port, bus_port = self._two_free_ports(taken)
                self.nodes[port] = self._node(port, bus_port)
            deadline = time.monotonic() + timeout
            for node in self.nodes.values():
                node.start(timeout=max(1.0, deadline - time.monotonic()))
            for port, node in self.nodes.items():
                with node.client() as client:
                    self._node_ids[port] = _command(client, "CLUSTER", "MYID")
            self._create(timeout=max(1.0, deadline - time.monotonic()))
            self.wait_until_healthy(timeout=max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """End every process and remove the temporary directory."""
        for node in self.nodes.values():
            node.stop()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> RedisClusterServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _two_free_ports(self, taken: set[int]) -> tuple[int, int]:
        ports: list[int] = []
        while len(ports) < 2:
            port = free_port()
            if port not in taken:
                taken.add(port)
                ports.append(port)
        return ports[0], ports[1]

    def _node(self, port: int, bus_port: int) -> RedisProcess:
        assert self.dir is not None
        node_dir = self.dir / str(port)
        node_dir.mkdir()
        args = [
            "--bind",
            HOST,
            *(["--port", "0", "--tls-port"] if self.tls else ["--port"]),
            str(port),
            *(self.tls_args() if self.tls else []),
            "--dir",
            str(node_dir),
            "--logfile",
            str(node_dir / "redis.log"),
            "--daemonize",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            # A replica (re)joining is served at once, not after the 5 s default wait for others.
            "--repl-diskless-sync-delay",
            "0",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            str(node_dir / "nodes.conf"),
            "--cluster-port",
            str(bus_port),
            "--cluster-node-timeout",
            str(self.node_timeout_ms),
            # A replica takes over however long it was cut off from its master: the tests want
            # a failover every time, not the production guard against stale replicas.
            "--cluster-replica-validity-factor",
            "0",
        ]
        return RedisProcess(port, args, node_dir / "redis.log", self.tls)

    def tls_args(self) -> list[str]:
        assert self.tls is not None
        return [*self.tls.server_args(), "--tls-cluster", "yes", "--tls-replication", "yes"]

    def _create(self, timeout: float) -> None:
        command = [
            redis_cli_binary(),
            *(["--tls", "--cacert", str(self.tls.ca)] if self.tls else []),
            "--cluster",
            "create",
            *(f"{HOST}:{port}" for port in self.nodes),
            "--cluster-replicas",
            str(self.replicas_per_master),
            "--cluster-yes",
        ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"redis-cli --cluster create failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )

    # --- state -----------------------------------------------------------------------------

    def _live(self) -> list[RedisProcess]:
        return [node for node in self.nodes.values() if node.alive]

    def _topology(self, node: RedisProcess) -> Topology | None:
        """One node's view: (slot range, master port, replica ports) for every slot range, or
        None unless that node says `cluster_state:ok` with every slot served."""
        with node.client() as client:
            info = _cluster_info(client)
            if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != str(SLOTS):
                return None
            rows = _cluster_nodes(client)
        replicas: dict[str, list[int]] = {}
        for fields in rows:
            flags = fields[2].split(",")
            if "slave" in flags and "fail" not in flags and "fail?" not in flags:
                replicas.setdefault(fields[3], []).append(_port_of(fields[1]))
        view = []
        for fields in rows:
            flags = fields[2].split(",")
            if "master" in flags and "fail" not in flags:
                for slots in _slot_ranges(fields):
                    ports = tuple(sorted(replicas.get(fields[0], [])))
                    view.append((slots, _port_of(fields[1]), ports))
        return tuple(sorted(view))

    def _agreed_topology(self) -> Topology | None:
        """The topology when every running node reports the same one, all slots covered by
        running masters; else None."""
        live = self._live()
        live_ports = {node.port for node in live}
        views = {self._topology(node) for node in live}
        if len(views) != 1:
            return None
        view = views.pop()
        if view is None:
            return None
        if sum(last - first + 1 for (first, last), _, _ in view) != SLOTS:
            return None
        if any(port not in live_ports for _, port, _ in view):
            return None
        return view

    def masters(self) -> list[ClusterMaster]:
        """The masters now, as a running node sees them (ports, node ids, slots, replicas)."""
        node = self._live()[0]
        with node.client() as client:
            rows = _cluster_nodes(client)
        replicas: dict[str, list[int]] = {}
        for fields in rows:
            if "slave" in fields[2].split(","):
                replicas.setdefault(fields[3], []).append(_port_of(fields[1]))
        found = []
        for fields in rows:
            flags = fields[2].split(",")
            if "master" in flags and "fail" not in flags and _slot_ranges(fields):
                found.append(
                    ClusterMaster(
                        port=_port_of(fields[1]),
                        node_id=fields[0],
                        slots=_slot_ranges(fields),
                        replica_ports=tuple(sorted(replicas.get(fields[0], []))),
                    )
                )
        return sorted(found, key=lambda master: master.slots)

    def master_for_slot(self, slot: int) -> int:
        """The port of the master serving `slot` now."""
        for master in self.masters():
            if any(first <= slot <= last for first, last in master.slots):
                return master.port
        raise LookupError(f"no master serves slot {slot}")

    def healthy(self) -> bool:
        """Every process running, every node agreeing on a full topology in which each master
        has its replicas, and every replica's replication link up."""
        try:
            return self._healthy()
        except redis.RedisError:
            return False

    def _healthy(self) -> bool:
        if len(self._live()) != len(self.nodes):
            return False
        view = self._agreed_topology()
        if view is None:
            return False
        masters = {port for _, port, _ in view}
        if len(masters) != self.master_count:
            return False
        if any(len(replicas) != self.replicas_per_master for _, _, replicas in view):
            return False
        for node in self.nodes.values():
            if node.port in masters:
                continue
            with node.client() as client:
                if client.info("replication").get("master_link_status") != "up":
                    return False
        return True

    def wait_until_healthy(self, timeout: float = 30.0) -> None:
        wait_until(self._healthy, timeout, "the cluster to be healthy (all nodes ok, in sync)")

    # --- faults ----------------------------------------------------------------------------

    def kill_master(self, port: int | None = None) -> int:
        """SIGKILL a master (by default the one serving slot 0); returns its port."""
        masters = {master.port: master for master in self.masters()}
        if port is None:
            port = min(masters.values(), key=lambda master: master.slots).port
        if port not in masters:
            raise ValueError(f"port {port} is not a master now (masters: {sorted(masters)})")
        self._killed_slots[port] = masters[port].slots
        self.nodes[port].kill()
        return port

    def wait_for_failover(self, old_port: int, timeout: float = 15.0) -> int:
        """Wait until a replica serves the slots of the killed master `old_port` and every
        running node agrees on a full, ok topology; returns the new master's port."""
        slots = self._killed_slots[old_port]

        def promoted() -> int | None:
            view = self._agreed_topology()
            if view is None:
                return None
            owners = {port for ranges, port, _ in view if ranges in slots}
            if len(owners) != 1 or old_port in owners:
                return None
            return owners.pop()

        return wait_until(promoted, timeout, f"a replica to take over from port {old_port}")

    def restart(self, port: int, timeout: float = 30.0) -> None:
        """Start a stopped node again with its own nodes.conf; it rejoins (a master that was
        failed over comes back as a replica of its successor). Waits until healthy: call it
        after `wait_for_failover`, or a master comes back empty before its replica took over."""
        self.nodes[port].start()
        self._killed_slots.pop(port, None)
        self.wait_until_healthy(timeout)

    def heal(self, timeout: float = 60.0) -> None:
        """Bring a cluster a test left broken back to health: wait for pending failovers,
        restart stopped nodes, wait until all are in sync. Does nothing when healthy."""
        if self.healthy():
            return
        deadline = time.monotonic() + timeout
        for port in list(self._killed_slots):
            if not self.nodes[port].alive:
                self.wait_for_failover(port, timeout=max(1.0, deadline - time.monotonic()))
        for node in self.nodes.values():
            if not node.alive:
                node.start()
        self._killed_slots.clear()
        self.wait_until_healthy(timeout=max(1.0, deadline - time.monotonic()))

    def flushall(self, timeout: float = 30.0) -> None:
        """FLUSHALL on every master, acknowledged by its replicas (WAIT). Right after a
        failover a node's view may still name a master that has just become a replica
        (READONLY): asked again, from a fresh view, until every master took it."""

        def flushed() -> bool:
            for master in self.masters():
                with self.nodes[master.port].client() as client:
                    pipe = client.pipeline(transaction=False)  # WAIT: on FLUSHALL's connection
                    pipe.flushall()
                    pipe.wait(len(master.replica_ports), 5000)
                    pipe.execute()
            return True

        wait_until(flushed, timeout, "FLUSHALL on every master")
