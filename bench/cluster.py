"""Benchmark: the same workload on a standalone Redis and on a 3-master Redis Cluster.

    python -m bench.cluster [--sessions 100000] [--passes 5] [--replicas 0] [--cpu 1 | --no-pin]

Starts its own servers on free ports and stops them at the end: a standalone `redis-server`
and a cluster of 3 masters (`project.redis_cluster`). Like for like: by default neither side has
a replica; with `--replicas N` the standalone server gets N replicas (`--replicaof`) and each
cluster master N, every replica in sync (`master_link_status:up`) before anything is measured.
This process and every server, replicas included, are pinned to one CPU (`--cpu`, default the
last), as in `bench/core.py`: on a 2-core machine placement alone changes round trips
severalfold, and on one CPU a wall time is the whole cost of an operation, client, masters and
replicas together. Before and after every timed step each side waits until its replicas have
applied everything their master wrote (no step pays for the backlog of the one before, and a
step's replica CPU is all of it). Prints four tables.

1. Per-operation cost, standalone against cluster, with the sync `RedisSessions`: sequential
   single `create`, `get`, `set`, `kill` (µs per op), `create_many` and `get_many` of 1000,
   `activity` and `soapp` (delta 600) on an app of 10k sessions, `killall` of 10k (ms). Both
   sides run one full untimed pass first, then `--passes` timed passes, the two sides
   alternating pass by pass; a figure is the median over the timed passes, with the time
   inside Redis (script calls, server CPU of the masters, of the replicas) beside it. On a
   2-core machine a cluster cannot add throughput: the question is whether one operation costs
   the same.
2. Key spread: `--sessions` sessions of one app over `--sessions / 2` ids; per master its
   DBSIZE and share of the keys (plain clients on the masters), its hash slots, its buckets.
3. Wipe: `--sessions` sessions with ttl 10, their last activity moved 60 s back
   (`backdate_many`), then one timed `wipe_pass()` on each deployment, with the server
   CPU it took and the PUBLISH messages the cluster's nodes relayed over the bus.
4. Capacity: bytes per session (the dataset of table 2: two sessions per id, d {"cart": 3},
   ttl 3600) from `INFO memory` used_memory before and after (summed over the masters on
   the cluster; a replica holds as much again), checked against MEMORY USAGE of a sample of
   session hashes and of user token sets plus the exact MEMORY USAGE of every index zset;
   sessions per GB of node memory and the masters needed for 10M and 100M sessions.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import redis
from redis.crc import key_slot

from project.redis_cluster import RedisClusterServers, RedisProcess, wait_until
from project.redis_server import RedisServer, free_port, pin_to_cpu
from sessions_core import NewSession, RedisSessions
from sessions_core.demo import Backdate
from sessions_core.keys import ClusterKeys

SEQUENTIAL = 2000  # single creates, gets, sets, kills per pass
BATCH = 1000  # create_many / get_many
APP_SIZE = 10_000  # the app read by activity and soapp, and the app ended by killall
DELTA = 600
CHUNK = 10_000  # sessions per create_many / backdate_many call while building
SAMPLE = 1000  # keys sampled for MEMORY USAGE
GB = 2**30
HEADROOM = 0.75  # share of a node's memory given to data (maxmemory)
TARGETS = (10_000_000, 100_000_000)
NODE_GB = (4, 16)


# -- the two deployments --------------------------------------------------------------------


@dataclass
class Deployment:
    """A deployment as the benchmark sees it: its URL, a plain client per master (the only
    node on a standalone server) and per replica and, on a cluster, which master serves each
    slot."""

    name: str
    url: str
    masters: dict[int, redis.Redis]  # port -> plain client
    slots: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    flush_all: Callable[[], None] | None = None
    replicas: dict[int, redis.Redis] = field(default_factory=dict)
    _cpu_at_reset: tuple[float, float] = (0.0, 0.0)

    def client_for(self, key: str | bytes) -> redis.Redis:
        """The plain client of the master holding `key`."""
        if not self.slots:
            return next(iter(self.masters.values()))
        return self.masters[self.port_of_slot(key_slot(_raw(key)))]

    def port_of_slot(self, slot: int) -> int:
        for port, ranges in self.slots.items():
            if any(first <= slot <= last for first, last in ranges):
                return port
        raise LookupError(f"no master serves slot {slot}")

    def flush(self) -> None:
        """FLUSHALL on every master, acknowledged by its replicas (WAIT), as the cluster's
        `flushall` does."""
        if self.flush_all is not None:
            self.flush_all()
        else:
            for client in self.masters.values():
                pipe = client.pipeline(transaction=False)  # WAIT: on FLUSHALL's connection
                pipe.flushall()
                pipe.wait(len(self.replicas), 5000)
                pipe.execute()
        self.settle()

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until every replica has applied all its master had written when called: its
        slave_repl_offset reaching the master's master_repl_offset, its link up. Reads INFO
        only: a WAIT counts the writes of its own connection, not the library's."""
        if not self.replicas:
            return
        written = {
            port: int(client.info("replication")["master_repl_offset"])
            for port, client in self.masters.items()
        }

        def applied() -> bool:
            for client in self.replicas.values():
                found = client.info("replication")
                if found.get("master_link_status") != "up":
                    return False
                if int(found["slave_repl_offset"]) < written[int(found["master_port"])]:
                    return False
            return True

        wait_until(applied, timeout, f"the {self.name} replicas to catch up")

    def used_memory(self) -> int:
        """used_memory summed over the masters (replicas not counted)."""
        return sum(int(client.info("memory")["used_memory"]) for client in self.masters.values())

    def reset_stats(self) -> None:
        """CONFIG RESETSTAT on every master; CPU times noted on every node."""
        for client in self.masters.values():
            client.config_resetstat()
        self._cpu_at_reset = self._cpu()

    def _cpu(self) -> tuple[float, float]:
        """Server CPU seconds (user + sys): masters summed, replicas summed."""

        def cpu(client: redis.Redis) -> float:
            found = client.info("cpu")
            return float(found["used_cpu_user"]) + float(found["used_cpu_sys"])

        masters = sum(cpu(client) for client in self.masters.values())
        return masters, sum(cpu(client) for client in self.replicas.values())

    def redis_time(self) -> tuple[float, float, float]:
        """Since `reset_stats`, in seconds: the time of the script calls (EVALSHA, EVAL; the
        commands a script runs are inside it, and commandstats counts them again under their
        own names, so only script calls are summed), the masters' CPU and the replicas' CPU.

        Every operation timed in table 1 is script calls only (on a cluster a create also
        registers its app, once a minute per process, with a small script: counted here)."""
        usec = 0
        for client in self.masters.values():
            stats = client.info("commandstats")
            usec += sum(
                int(stats[n]["usec"]) for n in ("cmdstat_evalsha", "cmdstat_eval") if n in stats
            )
        masters, replicas = self._cpu()
        return usec / 1e6, masters - self._cpu_at_reset[0], replicas - self._cpu_at_reset[1]

    def bus_publishes(self) -> int:
        """PUBLISH messages sent over the cluster bus so far, every node summed (0 when
        standalone)."""
        if not self.slots:
            return 0
        total = 0
        for client in [*self.masters.values(), *self.replicas.values()]:
            text = str(client.execute_command("CLUSTER", "INFO"))  # type: ignore[no-untyped-call]
            for line in text.splitlines():
                name, _, value = line.partition(":")
                if name == "cluster_stats_messages_publish_sent":
                    total += int(value)
        return total

    def sessions(self) -> RedisSessions:
        """A new client instance (its app registrations start empty)."""
        rs = RedisSessions(url=self.url)
        rs.ping()  # settles the layout: a cluster client and the cluster keys on a cluster
        return rs

    def close(self) -> None:
        for client in [*self.masters.values(), *self.replicas.values()]:
            client.close()


def _raw(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else key.encode("utf-8", "surrogateescape")


def plain(port: int) -> redis.Redis:
    return redis.Redis(port=port, decode_responses=True, socket_timeout=60)


def standalone_deployment(server: RedisServer, replicas: list[RedisProcess]) -> Deployment:
    return Deployment(
        "standalone",
        server.url,
        {server.port: plain(server.port)},
        replicas={replica.port: plain(replica.port) for replica in replicas},
    )


def start_replica(server: RedisServer, data_dir: Path) -> RedisProcess:
    """A replica of the standalone `server`: redis-server with the options `RedisServer` gives
    a server that keeps nothing, plus `--replicaof`; returns once its link is up. The master
    gets the cluster nodes' `repl-diskless-sync-delay 0` (a replica is served at once)."""
    with redis.Redis(port=server.port) as master:
        master.config_set("repl-diskless-sync-delay", 0)
    port = free_port()
    data_dir.mkdir(parents=True)
    args = ["--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir)]
    args += ["--logfile", str(data_dir / "redis.log"), "--daemonize", "no"]
    args += ["--appendonly", "no", "--save", ""]
    args += ["--replicaof", "127.0.0.1", str(server.port)]
    replica = RedisProcess(port, args, data_dir / "redis.log")

    def link_up() -> bool:
        with replica.client() as client:
            return str(client.info("replication").get("master_link_status")) == "up"

    try:
        replica.start()
        wait_until(link_up, 60.0, f"the replica on port {port} to be in sync")
    except BaseException:
        replica.stop()
        raise
    return replica


def cluster_deployment(cluster: RedisClusterServers) -> Deployment:
    masters = cluster.masters()
    return Deployment(
        "cluster",
        cluster.url,
        {m.port: plain(m.port) for m in masters},
        slots={m.port: m.slots for m in masters},
        flush_all=cluster.flushall,
        replicas={port: plain(port) for m in masters for port in m.replica_ports},
    )


# -- helpers --------------------------------------------------------------------------------


def new_sessions(count: int, *, prefix: str, ttl: int = 3600) -> list[NewSession]:
    """`count` sessions, two per id, a small d, ip 10.0.x.y."""
    return [
        {
            "id": f"{prefix}{i // 2:07d}",
            "ip": f"10.0.{(i >> 8) & 255}.{i & 255}",
            "ttl": ttl,
            "d": {"cart": 3},
        }
        for i in range(count)
    ]


def create_in_chunks(rs: RedisSessions, app: str, sessions: Sequence[NewSession]) -> list[str]:
    tokens: list[str] = []
    for start in range(0, len(sessions), CHUNK):
        made = rs.create_many(app=app, sessions=sessions[start : start + CHUNK])
        tokens += [t["token"] for t in made]
    return tokens


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min)"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        out = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


# -- 1. per-operation cost ------------------------------------------------------------------

Pass = dict[str, float]
T = TypeVar("T")
SEQUENTIAL_STEPS = ("create", "get", "set", "kill")

# (key, label, unit)
OPERATIONS = [
    ("create", f"create, sequential x{SEQUENTIAL}", "µs/op"),
    ("get", f"get, sequential x{SEQUENTIAL}", "µs/op"),
    ("set", f"set, sequential x{SEQUENTIAL}", "µs/op"),
    ("kill", f"kill, sequential x{SEQUENTIAL}", "µs/op"),
    ("create_many", f"create_many of {BATCH}", "ms"),
    ("get_many", f"get_many of {BATCH}", "ms"),
    ("activity", f"activity, delta {DELTA}, app of {APP_SIZE:,}", "ms"),
    ("soapp", f"soapp, delta {DELTA}, app of {APP_SIZE:,}", "ms"),
    ("killall", f"killall of {APP_SIZE:,}", "ms"),
]


def prepare_ops(rs: RedisSessions) -> None:
    """The app that activity and soapp read: APP_SIZE sessions over APP_SIZE / 2 ids."""
    create_in_chunks(rs, "reads", new_sessions(APP_SIZE, prefix="reader"))


def one_pass(side: Deployment, rs: RedisSessions) -> Pass:
    """The whole workload once. Each step gives `key` (wall time), `key:scripts` (script
    calls' time inside Redis), `key:cpu` (masters' CPU) and `key:replicas_cpu`, all in µs per
    op (sequential steps) or ms per call (batches). A step starts with the replicas caught
    up, and its server times are read once they have applied all of it."""
    figures: Pass = {}

    def step(key: str, action: Callable[[], T]) -> T:
        scale = 1e6 / SEQUENTIAL if key in SEQUENTIAL_STEPS else 1000.0
        side.settle()
        side.reset_stats()
        started = time.perf_counter()
        result = action()
        figures[key] = (time.perf_counter() - started) * scale
        side.settle()
        scripts, cpu, replicas_cpu = side.redis_time()
        figures[f"{key}:scripts"] = scripts * scale
        figures[f"{key}:cpu"] = cpu * scale
        figures[f"{key}:replicas_cpu"] = replicas_cpu * scale
        return result

    ids = [f"seq{i // 2:05d}" for i in range(SEQUENTIAL)]
    tokens = step(
        "create",
        lambda: [
            rs.create(app="ops", id=id, ip="10.0.0.1", ttl=3600, d={"cart": i})["token"]
            for i, id in enumerate(ids)
        ],
    )
    got = step("get", lambda: [rs.get(app="ops", token=token) for token in tokens])
    changed = step("set", lambda: [rs.set(app="ops", token=t, d={"cart": 7}) for t in tokens])
    killed = step("kill", lambda: sum(rs.kill(app="ops", token=t)["kill"] for t in tokens))
    assert all(got) and all(changed) and killed == SEQUENTIAL, killed

    batch = new_sessions(BATCH, prefix="batch")
    made = step("create_many", lambda: rs.create_many(app="batch", sessions=batch))
    read = step("get_many", lambda: rs.get_many(app="batch", tokens=[t["token"] for t in made]))
    assert all(read), "get_many missed a session"
    assert rs.killall(app="batch")["kill"] == BATCH

    active = step("activity", lambda: rs.activity(app="reads", delta_time=DELTA)["activity"])
    listed = step("soapp", lambda: rs.soapp(app="reads", delta_time=DELTA)["sessions"])
    assert active == APP_SIZE // 2 and len(listed) == APP_SIZE, (active, len(listed))

    create_in_chunks(rs, "doomed", new_sessions(APP_SIZE, prefix="doomed"))
    ended = step("killall", lambda: rs.killall(app="doomed")["kill"])
    assert ended == APP_SIZE, ended
    return figures


def run_ops(sides: list[Deployment], passes: int) -> dict[str, list[Pass]]:
    results: dict[str, list[Pass]] = {side.name: [] for side in sides}
    clients = {}
    for side in sides:
        side.flush()
        rs = side.sessions()
        prepare_ops(rs)
        clients[side.name] = rs
    for side in sides:  # warm-up, untimed: scripts loaded, connections and pools made
        one_pass(side, clients[side.name])
    for i in range(passes):
        order = sides if i % 2 == 0 else sides[::-1]  # neither side always goes first
        for side in order:
            results[side.name].append(one_pass(side, clients[side.name]))
        print(f"  pass {i + 1}/{passes} done; {load()}", flush=True)
    for rs in clients.values():
        rs.close()
    return results


def show(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _median(passes: list[Pass], key: str) -> float:
    return float(statistics.median(p[key] for p in passes))


def print_ops(results: dict[str, list[Pass]], passes: int, replicas: int) -> None:
    sa, cl = results["standalone"], results["cluster"]
    print(f"\n1. Per-operation cost (sync RedisSessions), median of {passes} timed passes after")
    print("   one untimed pass, the sides alternating pass by pass\n")
    print("1a. Wall time around the call(s); range = fastest - slowest pass\n")
    rows = []
    for key, label, unit in OPERATIONS:
        s, c = _median(sa, key), _median(cl, key)
        rows.append(
            [
                label,
                unit,
                show(s),
                show(c),
                f"{c / s:.2f}x",
                f"{show(min(p[key] for p in sa))} - {show(max(p[key] for p in sa))}",
                f"{show(min(p[key] for p in cl))} - {show(max(p[key] for p in cl))}",
            ]
        )
    headers = ["operation", "unit", "standalone", "cluster", "cluster/standalone"]
    print(table([*headers, "standalone range", "cluster range"], rows))
    print("\n1b. Inside Redis, same unit: time of the script calls (EVALSHA in INFO")
    print("    commandstats; soapp reads its hashes with plain HMGETs, not in it) and server")
    print("    CPU (INFO cpu, user + sys), masters summed. A batch runs on the 3 masters at once:")
    print("    sharing one CPU, their script times overlap, so CPU is the cost to compare.")
    if replicas:
        print(f"    Both sides have {replicas} replica(s) per master, applying every write (on the")
        print("    cluster also receiving every PUBLISH over the bus); their CPU apart, summed\n")
    else:
        print("    Neither side has a replica (--replicas 0)\n")
    measures = ["scripts", "cpu", *(["replicas_cpu"] if replicas else [])]
    rows = []
    for key, label, unit in OPERATIONS:
        cells = [label, unit]
        for measure in measures:
            s, c = _median(sa, f"{key}:{measure}"), _median(cl, f"{key}:{measure}")
            cells += [show(s), show(c), f"{c / s:.2f}x" if s else "-"]
        rows.append(cells)
    headers = ["operation", "unit"]
    for what in ("scripts", "CPU masters", "CPU replicas")[: len(measures)]:
        headers += [f"{what} standalone", f"{what} cluster", "cluster/standalone"]
    print(table(headers, rows))


# -- 2. key spread, and 4. capacity (the same dataset) ---------------------------------------


@dataclass
class Memory:
    name: str
    sessions: int
    used_delta: int  # bytes, summed over masters
    hash_avg: float  # MEMORY USAGE of a session hash, average of a sample
    user_set_avg: float  # MEMORY USAGE of a us:{id} set, average of a sample
    users: int
    index_total: int  # MEMORY USAGE SAMPLES 0 of every index zset, summed
    index_keys: int
    buckets: int  # an app's buckets (1 on a standalone server)
    spread: list[list[str]] = field(default_factory=list)

    @property
    def per_session(self) -> float:
        return self.used_delta / self.sessions

    @property
    def usage_per_session(self) -> float:
        """The MEMORY USAGE estimate: a hash, plus its share of the user sets and indexes."""
        sets = self.user_set_avg * self.users
        return self.hash_avg + (sets + self.index_total) / self.sessions


def build_dataset(side: Deployment, n: int) -> Memory:
    """`n` sessions of one app on a flushed deployment; memory measured around them."""
    side.flush()
    rs = side.sessions()
    # Scripts loaded on every master, connections open, before the first measurement.
    create_in_chunks(rs, "warmup", new_sessions(2000, prefix="warm"))
    rs.killall(app="warmup")
    time.sleep(0.5)
    side.settle()  # no replica output buffer left on a master
    before = side.used_memory()
    sessions = new_sessions(n, prefix="user")
    started = time.perf_counter()
    tokens = create_in_chunks(rs, "shop", sessions)
    took = time.perf_counter() - started
    time.sleep(1.0)  # let the main dict finish an incremental rehash
    side.settle()
    after = side.used_memory()
    print(f"  {side.name}: created {n:,} sessions in {took:.1f} s ({n / took:,.0f}/s)")

    rng = random.Random(7)
    sample = rng.sample(range(n), min(SAMPLE, n))
    keys = rs.keys
    hashes = [keys.of_token("shop", tokens[i]).session(tokens[i]) for i in sample]
    ids = sorted({sessions[i]["id"] for i in sample})
    sets = [keys.of_id("shop", id).user_tokens(id) for id in ids]
    hash_avg = statistics.fmean(_usage(side, key) for key in hashes)
    set_avg = statistics.fmean(_usage(side, key) for key in sets)
    index_keys: list[str] = []
    for bucket in keys.buckets("shop"):
        index_keys += [bucket.sessions, bucket.users, bucket.expiry]
    index_total = sum(_usage(side, key) for key in index_keys)
    users = len({s["id"] for s in sessions})
    buckets = keys.bucket_count if isinstance(keys, ClusterKeys) else 1
    memory = Memory(
        side.name,
        n,
        after - before,
        hash_avg,
        set_avg,
        users,
        index_total,
        len(index_keys),
        buckets,
    )
    if side.slots:
        memory.spread = spread(side, rs)
    rs.close()
    return memory


def _usage(side: Deployment, key: str | bytes) -> int:
    found = side.client_for(key).memory_usage(key, samples=0)
    if found is None:
        raise RuntimeError(f"MEMORY USAGE: no key {key!r}")
    return found


def spread(side: Deployment, rs: RedisSessions) -> list[list[str]]:
    """Per master: port, hash slots, buckets of the app, sessions, DBSIZE, share of keys."""
    buckets: dict[int, list[str]] = {port: [] for port in side.masters}
    for bucket in rs.keys.buckets("shop"):
        buckets[side.port_of_slot(key_slot(_raw(bucket.sessions)))].append(bucket.sessions)
    sizes = {port: int(client.dbsize()) for port, client in side.masters.items()}
    total = sum(sizes.values())
    rows = []
    for port, client in side.masters.items():
        sessions = sum(int(client.zcard(name)) for name in buckets[port])
        slots = sum(last - first + 1 for first, last in side.slots[port])
        share = 100 * sizes[port] / total
        rows.append(
            [
                f"127.0.0.1:{port}",
                f"{slots:,}",
                f"{len(buckets[port])}",
                f"{sessions:,}",
                f"{sizes[port]:,}",
                f"{share:.1f}%",
            ]
        )
    return rows


def print_spread(memory: Memory) -> None:
    print(f"\n2. Key spread: {memory.sessions:,} sessions of one app over {memory.users:,} ids,")
    print("   DBSIZE per master (plain client on each master; the few keys outside the app,")
    print("   rs:_apps, rs:_buckets, on whichever master their slot falls)\n")
    headers = ["master", "hash slots", "app buckets", "sessions", "DBSIZE", "% of keys"]
    print(table(headers, memory.spread))
    shares = [float(row[-1].rstrip("%")) for row in memory.spread]
    total = sum(int(row[4].replace(",", "")) for row in memory.spread)
    print(
        f"\n   total keys {total:,}; share per master min {min(shares):.1f}% / max "
        f"{max(shares):.1f}% (even: {100 / len(shares):.1f}%)"
    )


# -- 3. wipe --------------------------------------------------------------------------------


@dataclass
class Wiped:
    name: str
    sessions: int
    seconds: float
    report_duration: float
    remaining: int
    cpu: float  # seconds, masters summed
    replicas_cpu: float
    bus_publishes: int  # PUBLISH messages the nodes sent each other over the cluster bus


def run_wipe(side: Deployment, n: int) -> Wiped:
    side.flush()
    rs = side.sessions()
    sessions = new_sessions(n, prefix="gone", ttl=10)
    tokens = create_in_chunks(rs, "expiring", sessions)
    moved = 0
    for start in range(0, n, CHUNK):
        back: list[Backdate] = [
            {"token": tokens[i], "id": sessions[i]["id"], "idle": 60}
            for i in range(start, min(start + CHUNK, n))
        ]
        moved += rs.backdate_many(app="expiring", sessions=back)
    assert moved == n, moved
    side.settle()
    side.reset_stats()
    published = side.bus_publishes()
    started = time.perf_counter()
    report = rs.wipe_pass()
    seconds = time.perf_counter() - started
    side.settle()
    _, cpu, replicas_cpu = side.redis_time()
    published = side.bus_publishes() - published
    rs.close()
    if report["removed"] != n or report["remaining"]:
        print(
            f"  !!! {side.name}: wipe_pass removed {report['removed']:,} of {n:,}, "
            f"{report['remaining']:,} left"
        )
    return Wiped(
        side.name,
        report["removed"],
        seconds,
        report["duration"],
        report["remaining"],
        cpu,
        replicas_cpu,
        published,
    )


def print_wipe(wiped: list[Wiped], n: int, replicas: int) -> None:
    print(f"\n3. Wipe: one wipe_pass() over {n:,} timed-out sessions (ttl 10, last activity")
    print("   moved 60 s back with backdate_many), timed around the call; server CPU (masters")
    print(f"   summed; replicas, {replicas} per master, apart, read once they caught up);")
    print("   PUBLISH messages the nodes sent each other over the cluster bus (the wipe sends")
    print("   a cache message per session removed on a standalone server, one per batch of")
    print("   them on a cluster, where every node relays a PUBLISH)\n")
    headers = [
        "deployment",
        "removed",
        "duration",
        "sessions/s",
        "report duration",
        "left",
        "CPU masters",
        "CPU replicas",
        "bus PUBLISH msgs",
    ]
    rows = [
        [
            w.name,
            f"{w.sessions:,}",
            f"{w.seconds * 1000:,.0f} ms",
            f"{w.sessions / w.seconds:,.0f}",
            f"{w.report_duration * 1000:,.0f} ms",
            f"{w.remaining:,}",
            f"{w.cpu * 1000:,.0f} ms",
            f"{w.replicas_cpu * 1000:,.0f} ms" if replicas else "-",
            f"{w.bus_publishes:,}" if w.name == "cluster" else "-",
        ]
        for w in wiped
    ]
    print(table(headers, rows))


# -- 4. capacity ----------------------------------------------------------------------------


def print_capacity(memories: list[Memory]) -> None:
    n = memories[0].sessions
    print(f"\n4. Capacity: {n:,} sessions, 2 per id, d {{'cart': 3}}, ip 10.0.x.y, ttl 3600;")
    print("   bytes per session = used_memory after - before (masters only; each replica")
    print("   needs as much again), against MEMORY USAGE: a sampled hash + (sampled us: set x")
    print("   ids + every index zset, exact) / sessions. 1 GB = 2**30 bytes.\n")
    headers = [
        "deployment",
        "used_memory delta",
        "bytes/session",
        "MEMORY USAGE est.",
        "of which hash",
        "us: set share",
        "index share",
        "sessions/GB raw",
        f"at {HEADROOM:.0%}",
    ]
    rows = []
    for m in memories:
        rows.append(
            [
                m.name,
                f"{m.used_delta / 2**20:,.1f} MiB",
                f"{m.per_session:,.0f}",
                f"{m.usage_per_session:,.0f}",
                f"{m.hash_avg:,.0f}",
                f"{m.user_set_avg * m.users / m.sessions:,.0f}",
                f"{m.index_total / m.sessions:,.0f} ({m.index_keys} keys)",
                f"{GB / m.per_session:,.0f}",
                f"{HEADROOM * GB / m.per_session:,.0f}",
            ]
        )
    print(table(headers, rows))
    cluster = next(m for m in memories if m.name == "cluster")
    shares = [float(row[-1].rstrip("%")) for row in cluster.spread]
    b = cluster.buckets
    print(
        f"\n   Masters (shards) needed at the cluster's {cluster.per_session:,.0f} bytes/session,"
    )
    print(f"   data kept to {HEADROOM:.0%} of node memory (maxmemory; the rest for fork")
    print("   copy-on-write, fragmentation, buffers); with 1 replica each, twice the nodes.")
    print(f"   even = total / per node. But an app is {b} buckets, each on one master, so a")
    print("   master holds whole buckets: best case (slots placed by hand) the fullest holds")
    print(f"   ceil({b} / masters) buckets; one app never spreads over more than {b} masters.")
    print("   Placed by the default even slot ranges it is worse: on these 3 masters the")
    print(f"   fullest holds {max(shares):.1f}% of the keys, not {100 / len(shares):.1f}%.")
    print("   (A Redis Cluster has at least 3 masters whatever the figure says.)\n")
    headers = ["sessions", *(f"{gb} GB node: even / whole buckets" for gb in NODE_GB)]
    rows = []
    for target in TARGETS:
        cells = [f"{target:,}"]
        for gb in NODE_GB:
            per_node = HEADROOM * gb * GB / cluster.per_session
            even = math.ceil(target / per_node)
            per_master = math.floor(per_node / (target / b))  # whole buckets that fit
            whole = str(math.ceil(b / per_master)) if per_master else "no: a bucket > a node"
            cells.append(f"{even} / {whole} ({per_node / 1e6:,.1f}M sessions/node)")
        rows.append(cells)
    print(table(headers, rows))


# -- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=100_000, help="dataset size (2, 3, 4)")
    parser.add_argument("--passes", type=int, default=5, help="timed passes of table 1")
    parser.add_argument(
        "--cpu",
        type=int,
        default=max(os.sched_getaffinity(0)),
        help="CPU for this process and every redis-server (default: the last one)",
    )
    parser.add_argument("--no-pin", action="store_true", help="let the scheduler place them")
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="replicas of the standalone server and of each cluster master (default: 0)",
    )
    args = parser.parse_args(argv)
    if args.sessions < 2 or args.passes < 1 or args.replicas < 0:
        parser.error("--sessions must be at least 2, --passes at least 1, --replicas 0 or more")

    began = time.perf_counter()
    versions: list[str] = []
    if args.no_pin:
        placement = "not pinned"
    else:
        # The servers started below inherit it; threads of this process too.
        pin_to_cpu(args.cpu)
        servers = (1 + 3) * (1 + args.replicas)
        placement = (
            f"this process and all {servers} redis-server processes pinned to CPU {args.cpu}"
        )
    print(f"{os.cpu_count()} CPUs; {placement}; {load()}")
    print(f"replicas: {args.replicas} of the standalone server, {args.replicas} per cluster master")
    with (
        tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp,
        RedisServer(Path(tmp)) as server,
        contextlib.ExitStack() as stack,
        RedisClusterServers(masters=3, replicas=args.replicas) as cluster,
    ):
        replicas = []
        for i in range(args.replicas):
            replicas.append(start_replica(server, Path(tmp) / f"replica-{i}"))
            stack.callback(replicas[-1].stop)
        sides = [standalone_deployment(server, replicas), cluster_deployment(cluster)]
        try:
            for side in sides:
                client = next(iter(side.masters.values()))
                version = str(client.info("server")["redis_version"])
                versions.append(f"{side.name} {version}")
                print(
                    f"{side.name}: redis-server {version} at {side.url}, "
                    f"{len(side.masters)} master(s)"
                )
            for side in sides:
                print(
                    f"{side.name} masters {sorted(side.masters)}, replicas {sorted(side.replicas)}"
                )

            print("\nrunning 1. per-operation cost ...", flush=True)
            ops = run_ops(sides, args.passes)
            print(f"running 2./4. dataset of {args.sessions:,} sessions ...", flush=True)
            memories = [build_dataset(side, args.sessions) for side in sides]
            print(f"running 3. wipe of {args.sessions:,} sessions ...", flush=True)
            wiped = [run_wipe(side, args.sessions) for side in sides]

            print_ops(ops, args.passes, args.replicas)
            print_spread(memories[1])
            print_wipe(wiped, args.sessions, args.replicas)
            print_capacity(memories)
        finally:
            for side in sides:
                side.close()
    took = time.perf_counter() - began
    print(
        f"\nafter the run ({took:.0f} s): {os.cpu_count()} CPUs; redis-server "
        f"{', '.join(versions)}; {load()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
