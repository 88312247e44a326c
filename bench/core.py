"""Core benchmark: this library against the Node.js original on the same private Redis.

The original README's headline workload (1000 concurrent creates, 1000 concurrent gets of
them, killall of the 1000) plus 2000 sequential gets, for each side in turn on one server,
several rounds; prints per-round figures, then medians and Node/Python ratios.

Python's "concurrent" side is the pipelined batch calls `create_many` / `get_many`; Node's is
`Promise.all` (node-redis pipelines commands issued in the same tick). Redis, this process
and every Node process are pinned to one CPU: on a 2-core machine placement alone changes
round-trip times about 3x, so only same-placement figures compare.

    python -m bench.core [--rounds 5] [--cpu 1]
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
import time
from collections.abc import Callable
from pathlib import Path

from project.redis_server import RedisServer, pin_to_cpu
from sessions_core import RedisSessions

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "node"
NODE_BENCH = NODE_DIR / "bench_core.mjs"
NODE_PACKAGE = NODE_DIR / "node_modules" / "redis-sessions"

Timings = dict[str, float]
ROWS = (
    ("create_ms", "{n} concurrent creates", "ms"),
    ("get_ms", "{n} concurrent gets", "ms"),
    ("killall_ms", "killall of {n}", "ms"),
    ("seq_median_us", "sequential get, median", "µs"),
    ("seq_p99_us", "sequential get, p99", "µs"),
)


def _elapsed_ms(start: int) -> float:
    return (time.perf_counter_ns() - start) / 1e6


def _latency_figures(latencies_us: list[float]) -> Timings:
    return {
        "seq_median_us": statistics.median(latencies_us),
        "seq_p99_us": statistics.quantiles(latencies_us, n=100)[98],
    }


def python_workload(rs: RedisSessions, app: str, n: int, sequential: int) -> Timings:
    """The workload on this library; returns its timings."""
    batch = [{"id": f"bulkuser_{i}", "ip": "127.0.0.1"} for i in range(n)]
    timings: Timings = {}
    start = time.perf_counter_ns()
    created = rs.create_many(app=app, sessions=batch)  # type: ignore[arg-type]
    timings["create_ms"] = _elapsed_ms(start)
    tokens = [c["token"] for c in created]

    start = time.perf_counter_ns()
    sessions = rs.get_many(app=app, tokens=tokens)
    timings["get_ms"] = _elapsed_ms(start)
    if any(s is None or s["id"] != f"bulkuser_{i}" for i, s in enumerate(sessions)):
        raise RuntimeError("get_many returned a wrong session")

    latencies: list[float] = []
    get = rs.get
    clock = time.perf_counter_ns
    for i in range(sequential):
        token = tokens[i % n]
        t = clock()
        session = get(app=app, token=token)
        latencies.append((clock() - t) / 1e3)
        if session is None:
            raise RuntimeError("a sequential get returned None")
    timings.update(_latency_figures(latencies))

    start = time.perf_counter_ns()
    killed = rs.killall(app=app)
    timings["killall_ms"] = _elapsed_ms(start)
    if killed["kill"] != n:
        raise RuntimeError(f"killall removed {killed['kill']} of {n}")
    return timings


def python_round(url: str, n: int, sequential: int, warmup: int) -> Timings:
    with RedisSessions(url=url) as rs:
        python_workload(rs, "bench_py", warmup, warmup)
        return python_workload(rs, "bench_py", n, sequential)


def node_round(port: int, cpu: int, n: int, sequential: int, warmup: int) -> Timings:
    command = ["taskset", "-c", str(cpu), "node", str(NODE_BENCH), str(port), "bench_node"]
    command += [str(n), str(sequential), str(warmup)]
    out = subprocess.run(command, cwd=NODE_DIR, check=True, capture_output=True, text=True)
    raw = json.loads(out.stdout)
    timings: Timings = {k: float(raw[k]) for k in ("create_ms", "get_ms", "killall_ms")}
    timings.update(_latency_figures([float(x) for x in raw["sequential_us"]]))
    return timings


def _pin_all_threads(cpu: int, pid: int) -> None:
    """Pin every thread of a running process (redis-server has background threads too)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        pin_to_cpu(cpu, int(tid))


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def _median(rounds: list[Timings], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def _figure(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"


def print_table(py: list[Timings], node: list[Timings], n: int) -> None:
    print()
    print("| operation | Python (median) | Node (median) | Node/Python |")
    print("|---|---:|---:|---:|")
    for key, template, unit in ROWS:
        label = template.format(n=n)
        p = _median(py, key)
        if node:
            js = _median(node, key)
            print(f"| {label} | {_figure(p, unit)} | {_figure(js, unit)} | {js / p:.2f}x |")
        else:
            print(f"| {label} | {_figure(p, unit)} | - | - |")


def _print_round(side: str, i: int, t: Timings) -> None:
    figures = ", ".join(f"{key} {t[key]:.1f}" for key, _, _ in ROWS)
    print(f"round {i} {side:6} {figures}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=1, help="CPU for Redis and both clients")
    parser.add_argument("-n", type=int, default=1000, help="sessions per batch")
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)

    with_node = shutil.which("node") is not None and NODE_PACKAGE.exists()
    if not with_node:
        print("!!! node or node/node_modules missing (run `make node`): Python side only")
    pin_to_cpu(args.cpu)
    print(f"CPU {args.cpu} for redis-server, Python and Node; {os.cpu_count()} CPUs; {_load()}")

    py_rounds: list[Timings] = []
    node_rounds: list[Timings] = []
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as server:
        assert server.process is not None
        _pin_all_threads(args.cpu, server.process.pid)
        sides: list[tuple[str, list[Timings], Callable[[], Timings]]] = [
            (
                "python",
                py_rounds,
                lambda: python_round(server.url, args.n, args.sequential, args.warmup),
            )
        ]
        if with_node:
            sides.append(
                (
                    "node",
                    node_rounds,
                    lambda: node_round(server.port, args.cpu, args.n, args.sequential, args.warmup),
                )
            )
        for i in range(1, args.rounds + 1):
            # Alternate which side goes first, so neither always runs on a warmer server.
            for side, results, run in sides if i % 2 else sides[::-1]:
                results.append(run())
                _print_round(side, i, results[-1])
    print_table(py_rounds, node_rounds, args.n)
    print(f"\nafter the run: {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
