"""Benchmark: one wipe pass over a backlog of timed-out sessions, ours against the original's.

    python -m bench.wipe [--sessions 1000000] [--node-sessions N] [--batch 250]

Starts a private Redis (pinned to the last CPU; the clients and the probe run on the
others), writes a backlog of timed-out sessions in redis-sessions 4.0.0's wire layout, and
times `RedisSessions.wipe_pass` while a probe process PINGs Redis every 5 ms and records
the latency: the worst ping is the longest stall the wipe caused. Then it writes the
identical backlog again and times the Node original's wipe (`bench/node_wipe.mjs`, which
awaits `rs._wipe()` of redis-sessions 4.0.0 from node/node_modules) under the same probe.
It also times `discover_apps()` (the keyspace walk the wipe loop runs after each pass) on a
keyspace of live sessions. Prints a Markdown table.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import hiredis
import redis

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
class Run:
    name: str
    sessions: int
    duration: float
    max_stall_ms: float
    p99_ms: float
    pings: int
    slowest_ms: int
    heaviest: str
    left: int

    @property
    def rate(self) -> float:
        return self.sessions / self.duration if self.duration else float("inf")


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
def probed(url: str, cpu: int) -> Iterator[Callable[[], tuple[float, float, int, int, str]]]:
    """Run a latency probe around a block; yields a function giving the PING figures (max
    ms, p99 ms, count), Redis's own slowest command in the block (its latency monitor, in
    whole ms) and the p50/p99 of the command that is heaviest at p99 (its latencystats).
    The server-side figures are free of the client's scheduling noise, but on a busy host
    they include the time Redis itself was descheduled."""
    server = redis.Redis.from_url(url)
    server.config_set("latency-monitor-threshold", 1)
    server.latency_reset()
    server.config_resetstat()
    ctx = multiprocessing.get_context("fork")
    stop_recv, stop_send = ctx.Pipe(duplex=False)
    result_recv, result_send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_probe, args=(url, cpu, stop_recv, result_send))
    process.start()
    assert result_recv.recv() == "ready"
    figures: list[float] = []

    slowest: list[int] = []
    heaviest: list[str] = []

    def result() -> tuple[float, float, int, int, str]:
        latencies = sorted(figures)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        stall = max(slowest, default=0)
        return latencies[-1] * 1000, p99 * 1000, len(latencies), stall, heaviest[0]

    try:
        yield result
    finally:
        stop_send.send(True)
        figures.extend(result_recv.recv())
        process.join()
        # Events: "command" (slow commands, scripts included) and "fast-command" (O(1) ones).
        events = server.latency_latest()
        slowest.extend(int(e[3]) for e in events if e[0] in (b"command", b"fast-command"))
        stats = server.info("latencystats")
        name, worst = max(stats.items(), key=lambda item: item[1]["p99"])
        command = name.removeprefix("latency_percentiles_usec_")
        heaviest.append(f"{command} {worst['p50'] / 1000:.1f} / {worst['p99'] / 1000:.1f} ms")
        server.close()


def fresh_backlog(server: RedisServer, cpu: int) -> redis.Redis:
    """Restart the server: it loads the backlog saved in its dump.rdb, identical each time."""
    server.stop()
    server.start(timeout=300)
    assert server.process is not None
    pin_to_cpu(cpu, server.process.pid)
    return redis.Redis.from_url(server.url)


def run_ours(server: RedisServer, sessions: int, batch: int, cpu: int) -> list[Run]:
    """`discover_apps` then `wipe_pass` on the backlog, each under the probe."""
    rs = RedisSessions(url=server.url, namespace=NAMESPACE)
    with probed(server.url, cpu) as probe:
        started = time.perf_counter()
        found = rs.discover_apps()
        duration = time.perf_counter() - started
    assert sorted(found) == sorted(APPS), found
    discover = Run("ours: `discover_apps` (SCAN)", sessions, duration, *probe(), left=sessions)
    with probed(server.url, cpu) as probe:
        report = rs.wipe_pass(batch=batch)
    rs.close()
    assert report["removed"] == sessions, report
    name = f"ours: `wipe_pass` (batch {batch})"
    wipe = Run(name, sessions, report["duration"], *probe(), left=report["remaining"])
    return [wipe, discover]


def run_node(server: RedisServer, sessions: int, cpu: int, budget: float) -> Run:
    """The original's `_wipe()` in a Node process, under the probe.

    A pass that outlasts `budget` seconds is stopped; its duration is then extrapolated
    from the sessions it removed so far (the original removes them one by one at a steady
    rate, after one ZRANGEBYSCORE of the whole backlog: the stall is measured in full).
    """
    k = Keys(NAMESPACE)
    client = redis.Redis.from_url(server.url)
    name = "Node redis-sessions 4.0.0: `_wipe()`"
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
            name += f" (extrapolated from {removed:,} sessions in {elapsed:.0f} s)"
    left = int(client.zcard(k.all_sessions))
    client.close()
    return Run(name, sessions, duration, *probe(), left=left)


def table(runs: list[Run]) -> str:
    lines = [
        "| run | sessions | duration | sessions/s | max PING | p99 PING | pings "
        "| slowest command (Redis) | heaviest command p50 / p99 (Redis) | left |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.name} | {run.sessions:,} | {run.duration:.1f} s | {run.rate:,.0f} | "
            f"{run.max_stall_ms:.1f} ms | {run.p99_ms:.2f} ms | {run.pings:,} | "
            f"{run.slowest_ms} ms | {run.heaviest} | {run.left:,} |"
        )
    return "\n".join(lines)


def build(server: RedisServer, sessions: int) -> None:
    started = time.perf_counter()
    write_backlog(server.port, sessions)
    client = redis.Redis.from_url(server.url, socket_timeout=600)
    client.save()
    client.close()
    print(f"built {sessions:,} timed-out sessions in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument(
        "--node-sessions", type=int, default=None, help="backlog for the Node run (default: same)"
    )
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--skip-node", action="store_true")
    parser.add_argument(
        "--node-budget",
        type=float,
        default=180.0,
        help="stop the Node pass after this many seconds and extrapolate (default 180)",
    )
    args = parser.parse_args()
    node_sessions = args.node_sessions or args.sessions

    cpus = sorted(os.sched_getaffinity(0))
    redis_cpu, client_cpu = cpus[-1], cpus[0]
    pin_to_cpu(client_cpu)
    print(f"Redis on CPU {redis_cpu}; clients and probe on CPU {client_cpu}")
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as data, RedisServer(Path(data)) as server:
        client = fresh_backlog(server, redis_cpu)
        print(f"redis-server {client.info('server')['redis_version']}")
        build(server, args.sessions)
        runs += run_ours(server, args.sessions, args.batch, client_cpu)
        print(table(runs[-2:]))
        if not args.skip_node:
            if node_sessions != args.sessions:
                fresh_backlog(server, redis_cpu).flushall()
                build(server, node_sessions)
            fresh_backlog(server, redis_cpu)
            runs.append(run_node(server, node_sessions, client_cpu, args.node_budget))
            print(table(runs[-1:]))
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(table(runs))
    if not args.skip_node:
        speedup = runs[0].rate / runs[-1].rate
        print(f"\nspeedup of the wipe (sessions/s, ours / Node): {speedup:.1f}x")


if __name__ == "__main__":
    main()
