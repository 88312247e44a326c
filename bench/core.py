"""Core benchmark: this library against the Node.js original on the same private Redis.

The original README's headline workload: 1000 concurrent creates, 1000 concurrent gets of
them, `--sequential` gets one after the other (median and p99 latency), killall of the 1000.
Both sides are treated alike:

- each side is a process of its own (`bench/core_python.py`, `node/bench_core.mjs`) that
  runs the whole workload once untimed (warm-up), then `--passes` timed passes; a figure is
  the median over the timed passes of every round;
- before each side's process the server is flushed, so each starts on an empty server, and
  during a step both have the same number of sessions present (n, or 0 for the creates);
- Redis, both sides' processes (and this one) are pinned to one CPU (`--cpu`): on a 2-core
  machine placement alone changes round-trip times about 3x;
- `--rounds` rounds (default 2), alternating which side goes first.

Python's "concurrent" calls are measured two ways: the pipelined batch calls `create_many` /
`get_many` (sync), and `asyncio.gather` of single calls on `AsyncRedisSessions`; Node's are
`Promise.all` of single calls (node-redis pipelines the commands issued in one tick).
Sequential gets are measured on both Python classes. For every step, the Redis-side time
(INFO commandstats, every command but INFO/CONFIG) is printed per operation beside the wall
time, on both sides.

    python -m bench.core [--passes 5] [--rounds 2] [--cpu 1] [-n 1000] [--sequential 2000]
                         [--uvloop]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from project.redis_server import RedisServer, pin_to_cpu

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "node"
NODE_BENCH = NODE_DIR / "bench_core.mjs"
NODE_PACKAGE = NODE_DIR / "node_modules" / "redis-sessions"
APP = "bench"  # both sides, on a flushed server

Pass = dict[str, Any]  # one timed pass as a side's process printed it


@dataclass(frozen=True)
class Row:
    """A line of the table: a Python figure against the Node figure for the same work."""

    label: str
    python: str  # key of the Python pass's figures
    node: str | None  # key of the Node pass's figures, None when Node has no counterpart
    unit: str  # "ms" for a batch, "us" for a latency
    redis: tuple[str, str | None] | None = None  # keys in redis_us: (python, node)
    per_op: int = 0  # operations in the step, for Redis-side time per operation (0: n)


def rows(n: int, sequential: int) -> list[Row]:
    creates, gets, seq = "create_ms", "get_ms", "sequential_get_us"
    return [
        Row(f"{n} creates: `create_many` / `Promise.all` of `create`",
            "create_many_ms", creates, "ms", ("create_many", "create")),
        Row(f"{n} creates: `asyncio.gather` of `create` (async) / `Promise.all`",
            "gather_create_ms", creates, "ms", ("gather_create", "create")),
        Row(f"{n} gets: `get_many` / `Promise.all` of `get`",
            "get_many_ms", gets, "ms", ("get_many", "get")),
        Row(f"{n} gets: `asyncio.gather` of `get` (async) / `Promise.all`",
            "gather_get_ms", gets, "ms", ("gather_get", "get")),
        Row(f"killall of {n}", "killall_ms", "killall_ms", "ms", ("killall", "killall"), 1),
        Row("sequential get (sync), median", f"{seq}:median", f"{seq}:median", "us",
            ("sequential_get", "sequential_get"), sequential),
        Row("sequential get (sync), p99", f"{seq}:p99", f"{seq}:p99", "us"),
        Row("sequential awaited get (async), median", "sequential_aget_us:median",
            f"{seq}:median", "us", ("sequential_aget", "sequential_get"), sequential),
        Row("sequential awaited get (async), p99", "sequential_aget_us:p99", f"{seq}:p99", "us"),
    ]  # fmt: skip


def figure(one_pass: Pass, key: str) -> float:
    """A pass's figure: a wall time, or `latencies:median` / `latencies:p99`."""
    name, _, statistic = key.partition(":")
    if not statistic:
        return float(one_pass[name])
    latencies = one_pass[name]
    if statistic == "median":
        return float(statistics.median(latencies))
    return float(statistics.quantiles(latencies, n=100)[98])


def median(passes: list[Pass], key: str) -> float:
    return float(statistics.median(figure(p, key) for p in passes))


def redis_us_per_op(passes: list[Pass], step: str, ops: int, measure: str) -> float:
    """Median over passes of a step's Redis-side `commands` or `cpu` usec, per operation."""
    return float(statistics.median(p["redis_us"][step][measure] for p in passes)) / ops


def run_side(command: list[str], cwd: Path) -> list[Pass]:
    out = subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.PIPE, text=True)
    passes: list[Pass] = json.loads(out.stdout)["passes"]
    return passes


def pin_all_threads(cpu: int, pid: int) -> None:
    """Pin every thread of a running process (redis-server has background threads too)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        pin_to_cpu(cpu, int(tid))


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min)"


def _show(value: float, unit: str) -> str:
    unit = "µs" if unit == "us" else unit
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def _spread(passes: list[Pass], key: str, unit: str) -> str:
    values = [figure(p, key) for p in passes]
    return f"{_show(min(values), unit)} - {_show(max(values), unit)}"


def print_tables(py: list[Pass], node: list[Pass], n: int, sequential: int) -> None:
    print(f"\nMedians over every timed pass ({len(py)} Python, {len(node)} Node); the ranges "
          "are the fastest and slowest pass.\n")  # fmt: skip
    print("| operation (Python / Node) | Python | Node | Node/Python | Python range | Node range |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows(n, sequential):
        p = median(py, row.python)
        cells = [row.label, _show(p, row.unit)]
        if node and row.node:
            js = median(node, row.node)
            cells += [_show(js, row.unit), f"{js / p:.2f}x"]
            cells += [_spread(py, row.python, row.unit), _spread(node, row.node, row.unit)]
        else:
            cells += ["-", "-", _spread(py, row.python, row.unit), "-"]
        print("| " + " | ".join(cells) + " |")

    print("\nPer operation: wall time (a batch's time / n; for sequential gets the mean "
          "latency) against Redis-side time: the usec of the commands the client sent (INFO "
          "commandstats: Python's EVALSHA, Node's HMGET/ZRANGE/MULTI/EXEC) and the server's "
          "CPU time (INFO cpu). Medians over passes.\n")  # fmt: skip
    print("| step (Python / Node) | Python wall | Redis commands | Redis CPU | wall / commands "
          "| Node wall | Redis commands | Redis CPU | wall / commands |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows(n, sequential):
        if row.redis is None:
            continue
        ops = row.per_op or n
        py_step, node_step = row.redis
        cells = [row.label.removesuffix(", median")]
        cells += _redis_cells(py, row.python, py_step, ops, row.unit)
        if node and node_step and row.node:
            cells += _redis_cells(node, row.node, node_step, ops, row.unit)
        else:
            cells += ["-"] * 4
        print("| " + " | ".join(cells) + " |")


def _redis_cells(passes: list[Pass], key: str, step: str, ops: int, unit: str) -> list[str]:
    name = key.partition(":")[0]
    if unit == "us":  # sequential: mean latency
        wall = statistics.median(statistics.fmean(p[name]) for p in passes)
    else:
        wall = statistics.median(float(p[name]) for p in passes) * 1000 / ops
    commands = redis_us_per_op(passes, step, ops, "commands")
    cpu = redis_us_per_op(passes, step, ops, "cpu")
    ratio = f"{wall / commands:.1f}x" if commands else "-"
    return [_show(wall, "us"), _show(commands, "us"), _show(cpu, "us"), ratio]


def _print_round(side: str, i: int, passes: list[Pass], n: int, sequential: int) -> None:
    keys = dict.fromkeys(
        row.python if side == "python" else row.node for row in rows(n, sequential)
    )
    medians = ", ".join(f"{key} {median(passes, key):.1f}" for key in keys if key)
    print(f"round {i} {side:6} (median of {len(passes)} passes) {medians}", flush=True)
    if side == "python":
        clients = max(p["clients_after_gather"] for p in passes)
        print(f"round {i} python: {clients} connections open after asyncio.gather of gets")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--passes", type=int, default=5, help="timed passes per side per round")
    parser.add_argument("--rounds", type=int, default=2, help="processes per side, alternating")
    parser.add_argument("--cpu", type=int, default=1, help="CPU for Redis and both sides")
    parser.add_argument("-n", type=int, default=1000, help="sessions per batch")
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument(
        "--uvloop", action="store_true", help="run the async class on uvloop (libuv, as Node)"
    )
    args = parser.parse_args(argv)

    with_node = shutil.which("node") is not None and NODE_PACKAGE.exists()
    if not with_node:
        print("!!! node or node/node_modules missing (run `make node`): Python side only")
    pin_to_cpu(args.cpu)
    print(f"CPU {args.cpu} for redis-server, Python and Node; {os.cpu_count()} CPUs; {load()}")

    workload = [str(args.n), str(args.sequential), str(args.passes)]
    taskset = ["taskset", "-c", str(args.cpu)]
    results: dict[str, list[Pass]] = {"python": [], "node": []}
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as server:
        assert server.process is not None
        pin_all_threads(args.cpu, server.process.pid)
        admin = redis.Redis.from_url(server.url)
        print(f"redis-server {admin.info('server')['redis_version']}, node {_node_version()}")
        port = str(server.port)
        loop = ["--loop", "uvloop" if args.uvloop else "asyncio"]
        python = [*taskset, sys.executable, "-m", "bench.core_python", port, APP, *workload, *loop]
        node = [*taskset, "node", str(NODE_BENCH), port, APP, *workload]
        sides = [("python", python, ROOT)] + ([("node", node, NODE_DIR)] if with_node else [])
        for i in range(1, args.rounds + 1):
            # Alternate which side goes first, so neither always runs on a warmer machine.
            for side, command, cwd in sides if i % 2 else sides[::-1]:
                admin.flushall()  # each side's process starts on an empty server
                passes = run_side(command, cwd)
                results[side] += passes
                _print_round(side, i, passes, args.n, args.sequential)
        admin.close()
    print_tables(results["python"], results["node"], args.n, args.sequential)
    print(f"\nafter the run: {load()}")
    return 0


def _node_version() -> str:
    if shutil.which("node") is None:
        return "missing"
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
