"""The Python side of bench.core, the counterpart of node/bench_core.mjs: one process runs the
workload once untimed (warm-up), then `passes` timed passes; prints one JSON line.

A pass, step for step the Node side's where both have the operation:

- n creates: `create_many` (sync), then the same n again as `asyncio.gather` of single
  `create` on `AsyncRedisSessions` (killed untimed, so every step starts with n or 0 present);
- n gets of them: `get_many` (sync), then `asyncio.gather` of n single `get` (async);
  the async instance's single calls share its kept connection (sessions_core/autopipe.py),
  on asyncio's loop or, with `--loop uvloop`, on uvloop (libuv, as Node);
- `sequential` gets one after the other: sync `get`, then awaited `get` on the async class;
- killall of the n.

Per step: wall time (ms), or every latency (us) for the sequential ones, and the Redis-side
time (`RedisClock`), reset just before the step and read just after, outside the timed window.

    python -m bench.core_python <port> <app> [n] [sequential] [passes] [--loop uvloop]
Run it pinned to the CPU of redis-server (bench/core.py does, with taskset).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import redis
import uvloop

from sessions_core import AsyncRedisSessions, RedisSessions
from sessions_core.types import NewSession

Figures = dict[str, Any]
IP = "127.0.0.1"


class RedisClock:
    """Redis-side time of a step, on a connection of its own: the usec of its script calls
    (INFO commandstats, reset by CONFIG RESETSTAT) and the server's CPU time (INFO cpu).

    Every operation of the library is script calls (EVALSHA, EVAL after a script flush); the
    commands a script runs are inside its time, and commandstats counts them a second time
    under their own names, so only the script calls are summed.
    """

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.cpu_at_reset = 0.0

    def _cpu(self) -> float:
        cpu = self.client.info("cpu")
        return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])

    def reset(self) -> None:
        self.client.config_resetstat()
        self.cpu_at_reset = self._cpu()

    def read(self) -> dict[str, int]:
        """{"commands": usec of script calls, "cpu": usec of server CPU} since the reset."""
        cpu = self._cpu() - self.cpu_at_reset
        stats = self.client.info("commandstats")
        scripts = ("cmdstat_evalsha", "cmdstat_eval")
        commands = sum(int(stats[name]["usec"]) for name in scripts if name in stats)
        return {"commands": commands, "cpu": round(cpu * 1e6)}

    def connected_clients(self) -> int:
        return int(self.client.info("clients")["connected_clients"])


def _ms(start: int) -> float:
    return (time.perf_counter_ns() - start) / 1e6


class Workload:
    """One pass of the workload on one sync and one async instance sharing a server."""

    def __init__(self, url: str, app: str, n: int, sequential: int, loop: str = "asyncio") -> None:
        self.sync = RedisSessions(url=url)
        self.loop = uvloop.new_event_loop() if loop == "uvloop" else asyncio.new_event_loop()
        self.aio = self.loop.run_until_complete(self._async_instance(url))
        self.clock = RedisClock(url)
        self.app = app
        self.n = n
        self.sequential = sequential

    @staticmethod
    async def _async_instance(url: str) -> AsyncRedisSessions:
        # Built inside the loop: its single calls keep a connection of this loop. Its own
        # client is a blocking pool of 100 connections, so a gather of 1000 waits, not fails.
        return AsyncRedisSessions(url=url)

    def close(self) -> None:
        self.sync.close()
        self.loop.run_until_complete(self.aio.aclose())
        self.loop.close()
        self.clock.client.close()

    def _new_sessions(self) -> list[NewSession]:
        return [{"id": f"bulkuser_{i}", "ip": IP} for i in range(self.n)]

    def _check(self, sessions: list[Any]) -> None:
        if any(s is None or s["id"] != f"bulkuser_{i}" for i, s in enumerate(sessions)):
            raise RuntimeError("a get returned a wrong session")

    def run(self) -> Figures:
        rs, app, clock = self.sync, self.app, self.clock
        figures: Figures = {"redis_us": {}}
        redis_us: dict[str, dict[str, int]] = figures["redis_us"]

        clock.reset()
        start = time.perf_counter_ns()
        created = rs.create_many(app=app, sessions=self._new_sessions())
        figures["create_many_ms"] = _ms(start)
        redis_us["create_many"] = clock.read()
        tokens = [c["token"] for c in created]

        clock.reset()
        start = time.perf_counter_ns()
        sessions = rs.get_many(app=app, tokens=tokens)
        figures["get_many_ms"] = _ms(start)
        redis_us["get_many"] = clock.read()
        self._check(sessions)

        clock.reset()
        figures["gather_get_ms"], sessions = self.loop.run_until_complete(self._gather_get(tokens))
        redis_us["gather_get"] = clock.read()
        figures["clients_after_gather"] = clock.connected_clients()
        self._check(sessions)

        clock.reset()
        figures["sequential_get_us"] = self._sequential_sync(tokens)
        redis_us["sequential_get"] = clock.read()

        clock.reset()
        figures["sequential_aget_us"] = self.loop.run_until_complete(self._sequential_async(tokens))
        redis_us["sequential_aget"] = clock.read()

        clock.reset()
        start = time.perf_counter_ns()
        killed = rs.killall(app=app)
        figures["killall_ms"] = _ms(start)
        redis_us["killall"] = clock.read()
        if killed["kill"] != self.n:
            raise RuntimeError(f"killall removed {killed['kill']} of {self.n}")

        # Single creates, started together: begins on an empty app like create_many did.
        clock.reset()
        figures["gather_create_ms"] = self.loop.run_until_complete(self._gather_create())
        redis_us["gather_create"] = clock.read()
        if rs.killall(app=app)["kill"] != self.n:
            raise RuntimeError("gathered creates did not all land")
        return figures

    async def _gather_get(self, tokens: list[str]) -> tuple[float, list[Any]]:
        get, app = self.aio.get, self.app
        start = time.perf_counter_ns()
        sessions = await asyncio.gather(*(get(app=app, token=t) for t in tokens))
        return _ms(start), sessions

    async def _gather_create(self) -> float:
        create, app = self.aio.create, self.app
        start = time.perf_counter_ns()
        await asyncio.gather(*(create(app=app, id=f"bulkuser_{i}", ip=IP) for i in range(self.n)))
        return _ms(start)

    def _sequential_sync(self, tokens: list[str]) -> list[float]:
        get, app, clock = self.sync.get, self.app, time.perf_counter_ns
        latencies: list[float] = []
        for i in range(self.sequential):
            t = clock()
            session = get(app=app, token=tokens[i % len(tokens)])
            latencies.append((clock() - t) / 1e3)
            if session is None:
                raise RuntimeError("a sequential get returned None")
        return latencies

    async def _sequential_async(self, tokens: list[str]) -> list[float]:
        get, app, clock = self.aio.get, self.app, time.perf_counter_ns
        latencies: list[float] = []
        for i in range(self.sequential):
            t = clock()
            session = await get(app=app, token=tokens[i % len(tokens)])
            latencies.append((clock() - t) / 1e3)
            if session is None:
                raise RuntimeError("a sequential awaited get returned None")
        return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("port", type=int)
    parser.add_argument("app")
    parser.add_argument("n", type=int, nargs="?", default=1000)
    parser.add_argument("sequential", type=int, nargs="?", default=2000)
    parser.add_argument("passes", type=int, nargs="?", default=5)
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args(argv)
    url = f"redis://127.0.0.1:{args.port}/0"
    workload = Workload(url, args.app, args.n, args.sequential, args.loop)
    workload.run()  # warm-up: the whole workload, untimed
    timed = [workload.run() for _ in range(args.passes)]
    workload.close()
    print(json.dumps({"passes": timed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
