"""Benchmark: dashboard pages and the CSV export walk deep into one big app on a Redis Cluster.

    python -m bench.cluster_pages [--sessions 100000] [--repeat 5] [--cpu N]

On a cluster an app's sessions sit in 64 sorted sets, so a page of them is a merge. This starts
a 3-master cluster (no replicas; `project.redis_cluster`), pins this process and every server to
one CPU (as `bench/cluster.py` does), makes `--sessions` sessions of one app and times, with
the sync `RedisSessions`:

- `soapp_page` (50 rows, newest first) at offsets from 0 to the last page: the library's way
  (a walk from the nearer end, or every bucket down to the page; see the README), and beside it
  the one way there was before, every bucket read down to the page and merged (the library's
  own `_merged` plan, run directly: labelled "every bucket to the page");
- `soapp_chunks` over the whole window, as the CSV export walks it.

Both with last activity spread over 14 hours (`backdate_many`), then with every session in
the same second (equal scores: a token starts with its bucket, so ties sort bucket by bucket).
A figure is the median of `--repeat` calls after one untimed call.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable

from project.redis_cluster import RedisClusterServers
from project.redis_server import pin_to_cpu
from sessions_core import RedisSessions

APP = "big"
WINDOW = 100_000  # seconds: every session of the app is in the window
LIMIT = 50


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min)"


def _ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _rows(rs: RedisSessions, n: int, repeat: int) -> list[str]:
    offsets = [0, 1000, 5000, n // 4, n // 2, 3 * n // 4, n - LIMIT]
    buckets = rs.keys.buckets(APP)
    lines = []
    for offset in offsets:

        def page(offset: int = offset) -> object:
            return rs.soapp_page(app=APP, delta_time=WINDOW, offset=offset, limit=LIMIT)

        def every_bucket(offset: int = offset) -> object:
            return rs._run(rs._merged(buckets, WINDOW, False, offset + LIMIT))

        lines.append(
            f"| page at offset {offset:,} | {_ms(page, repeat):.1f} "
            f"| {_ms(every_bucket, repeat):.1f} |"
        )
    export = _ms(lambda: sum(len(c) for c in rs.soapp_chunks(app=APP, delta_time=WINDOW)), 1)
    lines.append(f"| export walk of all {n:,} (`soapp_chunks`) | {export:.0f} | - |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=(os.cpu_count() or 1) - 1)
    args = parser.parse_args(argv)
    n = args.sessions
    pin_to_cpu(args.cpu)
    print(f"CPU {args.cpu} for this process and the cluster; {_load()}")
    with RedisClusterServers(masters=3, replicas=0) as cluster:
        for node in cluster.nodes.values():
            assert node.process is not None
            for tid in os.listdir(f"/proc/{node.process.pid}/task"):
                pin_to_cpu(args.cpu, int(tid))
        with RedisSessions(url=cluster.url) as rs:
            made = []
            for start in range(0, n, 5000):
                batch = [
                    {"id": f"u{i}", "ip": "10.0.0.1"} for i in range(start, min(n, start + 5000))
                ]
                made += rs.create_many(app=APP, sessions=batch)  # type: ignore[arg-type]
            same_second = _rows(rs, n, args.repeat)
            rng = random.Random(1)
            for start in range(0, n, 5000):
                rs.backdate_many(
                    app=APP,
                    sessions=[
                        {"token": t["token"], "id": f"u{i}", "idle": rng.randrange(50_000)}
                        for i, t in enumerate(made[start : start + 5000], start=start)
                    ],
                )
            spread = _rows(rs, n, args.repeat)
    print(f"\n{n:,} sessions of one app on 3 masters; ms, median of {args.repeat} calls\n")
    for title, lines in (
        ("last activity over 14 hours", spread),
        ("created at once (a few seconds, so long runs of equal scores)", same_second),
    ):
        print(f"{title}:\n")
        print("| step | library | every bucket to the page |")
        print("|---|---:|---:|")
        print("\n".join(lines) + "\n")
    print(f"after the run: {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
