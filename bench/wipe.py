"""Benchmark: one wipe pass over a backlog of timed-out sessions, ours against the original's.

    python -m bench.wipe [--sessions 300000] [--batch 250] [--node-budget 600] [--node-first]

Starts a private Redis (pinned to the last CPU; the clients and the probe run on the first),
writes a backlog of timed-out sessions in redis-sessions 4.0.0's wire layout and saves it.
Each side then gets a server in the same state: the server is restarted before each side and
loads the saved backlog. Each side's pass is timed the same way, by the wall clock of the
process that calls it, around the one call: `RedisSessions.wipe_pass` here (which also counts
the backlog and stores its report: ZCOUNT, ZCARD, SET; their Redis time is printed), the
original's `rs._wipe()` in `bench/node_wipe.mjs`. Meanwhile a probe process PINGs Redis every
5 ms: the worst ping is the longest stall the pass caused. A Node pass that outlasts
`--node-budget` seconds is stopped and its duration extrapolated; such a figure is labelled an
estimate wherever it appears. Last, after one more restart, it times `discover_apps()` (the
keyspace walk the wipe loop runs after each pass) on the keyspace as it is then: the keys of
the timed-out backlog, before any wipe. Prints a Markdown table and the speedup.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import hiredis
import redis

from bench.core import pin_all_threads
from project.redis_server import RedisServer, pin_to_cpu
from sessions_core import RedisSessions
from sessions_core.keys import Keys
from sessions_core.store import BATCH

ROOT = Path(__file__).resolve().parent.parent
NODE_WIPE = ROOT / "bench" / "node_wipe.mjs"
NAMESPACE = "rs"
APPS = ("shop", "forum", "api_v2", "admin-ui", "mobile")
TTL = 3600
CHUNK = 5_000  # sessions per pipelined round trip while building
PING_EVERY = 0.005


@dataclass
class Probed:
    """What the probe and Redis itself saw during a block (filled in when the block ends)."""

    max_ping_ms: float = 0.0
    p99_ping_ms: float = 0.0
    pings: int = 0
    slowest_ms: int = 0  # Redis's latency monitor, whole ms
    heaviest: str = ""  # p50 / p99 of the command heaviest at p99 (latencystats)
    cpu_s: float = 0.0  # Redis's CPU time (INFO cpu), the probe's PINGs included
    usec: dict[str, int] = field(default_factory=dict)  # INFO commandstats, per command


@dataclass
class Run:
    name: str
    work: int  # sessions removed, or keys walked
    unit: str  # "sessions" or "keys"
    duration: float
    probe: Probed
    left: int
    estimate: str = ""  # why the duration is extrapolated, when it is

    @property
    def rate(self) -> float:
        return self.work / self.duration if self.duration else float("inf")


def pack(*args: str | int) -> bytes:
    """One command in RESP. (hiredis' stub types the argument as a 1-tuple.)"""
    packed: bytes = hiredis.pack_command(args)  # type: ignore[arg-type]
    return packed


def backlog_commands(sessions: int, *, seed: int = 1) -> Iterator[list[bytes]]:
    """RESP-packed writes of `sessions` timed-out sessions, in chunks of `CHUNK` sessions.

    Exactly what the original's `create` writes (hash, user's token set, three zsets), with
    last activity one ttl and a minute in the past: five apps, two sessions per user.
    Deterministic for a seed. Ids hold no ':' because the original's wipe cuts ids at one.
    """
    k = Keys(NAMESPACE)
    rng = random.Random(seed)
    la = int(time.time()) - TTL - 60
    for start in range(0, sessions, CHUNK):
        packed: list[bytes] = []
        all_sessions: list[str | int] = []
        per_app: dict[str, list[str | int]] = {app: [] for app in APPS}
        users: dict[str, list[str | int]] = {app: [] for app in APPS}
        for i in range(start, min(start + CHUNK, sessions)):
            app = APPS[i % len(APPS)]
            id = f"user{i // (2 * len(APPS))}"
            token = f"{rng.getrandbits(256):064x}"
            fields = ("id", id, "r", 1, "w", 1, "ip", "10.0.0.1", "la", la, "ttl", TTL)
            packed.append(pack("HSET", k.session(app, token), *fields))
            packed.append(pack("SADD", k.user_tokens(app, id), token))
            per_app[app] += [la, f"{token}:{id}"]
            users[app] += [la, id]
            all_sessions += [la + TTL, f"{app}:{token}:{id}"]
        for app in APPS:
            if per_app[app]:
                packed.append(pack("ZADD", k.app_sessions(app), *per_app[app]))
                packed.append(pack("ZADD", k.app_users(app), *users[app]))
        packed.append(pack("ZADD", k.all_sessions, *all_sessions))
        yield packed


def write_backlog(port: int, sessions: int) -> None:
    """Send the backlog down one socket, a chunk per round trip; fail on any error reply."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        reader = hiredis.Reader()
        for packed in backlog_commands(sessions):
            sock.sendall(b"".join(packed))
            replies = 0
            while replies < len(packed):
                reader.feed(sock.recv(1 << 20))
                while (reply := reader.gets()) is not False:
                    if isinstance(reply, hiredis.ReplyError):
                        raise RuntimeError(f"backlog write failed: {reply}")
                    replies += 1


def _probe(url: str, cpu: int, stop: Connection, out: Connection) -> None:
    """PING every few ms until told to stop; send back every latency in seconds."""
    pin_to_cpu(cpu)
    client = redis.Redis.from_url(url)
    client.ping()
    latencies: list[float] = []
    out.send("ready")
    while not stop.poll():
        started = time.perf_counter()
        client.ping()
        latencies.append(time.perf_counter() - started)
        time.sleep(PING_EVERY)
    out.send(latencies)


@contextmanager
def probed(url: str, cpu: int) -> Iterator[Probed]:
    """Run a latency probe around a block; the yielded `Probed` is filled in when it ends.

    Redis's own figures (latency monitor, latencystats, commandstats, CPU time) are free of
    the client's scheduling noise, but on a busy host they include the time Redis itself
    was descheduled.
    """
    server = redis.Redis.from_url(url)
    server.config_set("latency-monitor-threshold", 1)
    server.latency_reset()
    server.config_resetstat()
    cpu_before = _redis_cpu(server)
    ctx = multiprocessing.get_context("fork")
    stop_recv, stop_send = ctx.Pipe(duplex=False)
    result_recv, result_send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_probe, args=(url, cpu, stop_recv, result_send))
    process.start()
    assert result_recv.recv() == "ready"
    seen = Probed()
    try:
        yield seen
    finally:
        stop_send.send(True)
        latencies = sorted(result_recv.recv())
        process.join()
        seen.cpu_s = _redis_cpu(server) - cpu_before
        seen.max_ping_ms = latencies[-1] * 1000
        seen.p99_ping_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        seen.pings = len(latencies)
        # Events: "command" (slow commands, scripts included) and "fast-command" (O(1) ones).
        events = server.latency_latest()
        seen.slowest_ms = max(
            (int(e[3]) for e in events if e[0] in (b"command", b"fast-command")), default=0
        )
        stats = server.info("latencystats")
        name, worst = max(stats.items(), key=lambda item: item[1]["p99"])
        command = name.removeprefix("latency_percentiles_usec_")
        seen.heaviest = f"{command} {worst['p50'] / 1000:.1f} / {worst['p99'] / 1000:.1f} ms"
        seen.usec = {
            name.removeprefix("cmdstat_"): int(entry["usec"])
            for name, entry in server.info("commandstats").items()
        }
        server.close()


def _redis_cpu(server: redis.Redis) -> float:
    cpu = server.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def restart(server: RedisServer, cpu: int) -> None:
    """Restart the server: it loads the backlog saved in its dump.rdb, the same every time."""
    server.stop()
    server.start(timeout=300)
    assert server.process is not None
    pin_all_threads(cpu, server.process.pid)


def run_ours(server: RedisServer, sessions: int, batch: int, cpu: int) -> Run:
    """`wipe_pass` on the backlog under the probe, timed around the call."""
    rs = RedisSessions(url=server.url, namespace=NAMESPACE)
    rs.ping()  # connect first, as the Node side does
    with probed(server.url, cpu) as probe:
        started = time.perf_counter()
        report = rs.wipe_pass(batch=batch)
        duration = time.perf_counter() - started
    rs.close()
    assert report["removed"] == sessions, report
    name = f"ours: `wipe_pass` (batch {batch}; with its report: ZCOUNT, ZCARD, SET)"
    return Run(name, sessions, "sessions", duration, probe, left=report["remaining"])


def run_discover(server: RedisServer, sessions: int, cpu: int) -> Run:
    """`discover_apps` under the probe, on the keyspace of the timed-out backlog."""
    client = redis.Redis.from_url(server.url)
    keys = int(client.dbsize())
    client.close()
    rs = RedisSessions(url=server.url, namespace=NAMESPACE)
    rs.ping()
    with probed(server.url, cpu) as probe:
        started = time.perf_counter()
        found = rs.discover_apps()
        duration = time.perf_counter() - started
    rs.close()
    assert sorted(found) == sorted(APPS), found
    name = (
        f"ours: `discover_apps` (SCAN of the whole keyspace: {keys:,} keys, those of "
        f"{sessions:,} timed-out sessions, before any wipe)"
    )
    return Run(name, keys, "keys", duration, probe, left=sessions)


def run_node(server: RedisServer, sessions: int, cpu: int, budget: float) -> Run:
    """The original's `_wipe()` in a Node process, under the probe, timed by Node around the
    call. A pass that outlasts `budget` seconds is stopped; its duration is then extrapolated
    from the sessions it removed so far (the original removes them one by one at a steady
    rate, after one ZRANGEBYSCORE of the whole backlog, whose stall is measured in full)."""
    k = Keys(NAMESPACE)
    client = redis.Redis.from_url(server.url)
    name = "Node redis-sessions 4.0.0: `_wipe()`"
    estimate = ""
    with probed(server.url, cpu) as probe:
        node = subprocess.Popen(
            ["node", str(NODE_WIPE), str(server.port), NAMESPACE],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: pin_to_cpu(cpu),
        )
        assert node.stdout is not None
        assert json.loads(node.stdout.readline()) == {"started": True}
        started = time.perf_counter()
        try:
            node.wait(timeout=budget)
            duration = json.loads(node.stdout.readline())["seconds"]
        except subprocess.TimeoutExpired:
            node.terminate()
            elapsed = time.perf_counter() - started
            node.wait()
            removed = sessions - int(client.zcard(k.all_sessions))
            duration = elapsed * sessions / removed
            estimate = (
                f"extrapolated from {removed:,} of {sessions:,} sessions "
                f"({removed / sessions:.0%}) removed in the {elapsed:.0f} s budget"
            )
            name += f" (ESTIMATE: {estimate}; PING and Redis figures cover those {elapsed:.0f} s)"
    left = int(client.zcard(k.all_sessions))
    client.close()
    return Run(name, sessions, "sessions", duration, probe, left=left, estimate=estimate)


def table(runs: list[Run]) -> str:
    lines = [
        "| run | work | duration | rate | Redis CPU | max PING | p99 PING | pings "
        "| slowest command (Redis) | heaviest command p50 / p99 (Redis) | left |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for run in runs:
        p = run.probe
        duration = f"{run.duration:.1f} s"
        rate = f"{run.rate:,.0f} {run.unit}/s"
        if run.estimate:
            duration, rate = f"≈{duration} (estimate)", f"≈{rate} (estimate)"
        lines.append(
            f"| {run.name} | {run.work:,} {run.unit} | {duration} | {rate} | {p.cpu_s:.1f} s | "
            f"{p.max_ping_ms:.1f} ms | {p.p99_ping_ms:.2f} ms | {p.pings:,} | "
            f"{p.slowest_ms} ms | {p.heaviest} | {run.left:,} |"
        )
    return "\n".join(lines)


def build(server: RedisServer, sessions: int) -> None:
    started = time.perf_counter()
    write_backlog(server.port, sessions)
    client = redis.Redis.from_url(server.url, socket_timeout=600)
    client.save()
    print(
        f"built {sessions:,} timed-out sessions ({client.dbsize():,} keys) and saved them", end=""
    )
    print(f" in {time.perf_counter() - started:.1f} s")
    client.close()


def speedup(ours: Run, node: Run) -> str:
    ratio = node.duration / ours.duration
    line = "speedup of the wipe (the same backlog; Node's duration / ours): "
    if node.estimate:
        return line + f"≈{ratio:.1f}x (ESTIMATE: Node's duration is {node.estimate})"
    return line + f"{ratio:.1f}x (both measured)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=300_000, help="backlog (e.g. 1000000)")
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--skip-node", action="store_true")
    parser.add_argument("--node-first", action="store_true", help="run the Node pass first")
    parser.add_argument(
        "--node-budget",
        type=float,
        default=600.0,
        help="stop the Node pass after this many seconds and extrapolate (default 600)",
    )
    args = parser.parse_args(argv)

    cpus = sorted(os.sched_getaffinity(0))
    redis_cpu, client_cpu = cpus[-1], cpus[0]
    pin_to_cpu(client_cpu)
    print(f"Redis on CPU {redis_cpu}; clients (Python, Node) and the probe on CPU {client_cpu}")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    order = (
        ["ours"] if args.skip_node else ["node", "ours"] if args.node_first else ["ours", "node"]
    )
    runs: dict[str, Run] = {}
    with tempfile.TemporaryDirectory() as data, RedisServer(Path(data)) as server:
        assert server.process is not None
        pin_all_threads(redis_cpu, server.process.pid)
        build(server, args.sessions)
        for side in order:
            restart(server, redis_cpu)  # each side on the saved backlog, freshly loaded
            if side == "ours":
                runs[side] = run_ours(server, args.sessions, args.batch, client_cpu)
            else:
                runs[side] = run_node(server, args.sessions, client_cpu, args.node_budget)
            print(table([runs[side]]), flush=True)
        restart(server, redis_cpu)
        runs["discover"] = run_discover(server, args.sessions, client_cpu)
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(table([runs[side] for side in ("ours", "discover", "node") if side in runs]))
    usec = runs["ours"].probe.usec
    report_ms = sum(usec.get(command, 0) for command in ("zcount", "zcard", "set")) / 1000
    print(
        f"\nours: Redis time of the report's ZCOUNT, ZCARD and SET: {report_ms:.2f} ms in all; "
        f"of the batch scripts (EVALSHA): {usec.get('evalsha', 0) / 1e6:.1f} s"
    )
    if "node" in runs:
        print(speedup(runs["ours"], runs["node"]))


if __name__ == "__main__":
    main()
