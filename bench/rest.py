"""REST benchmark: our API (the Procfile's `api:` line, exactly) against an Express peer around
redis-sessions 4.0.0 (`node/rest_peer.mjs`), on the same private Redis, with wrk.

    python -m bench.rest [--duration 10] [--rounds 2] [--connections 32] [--server-cpu 1]
                         [--client-cpu 0] [--sessions 1000] [--skip-node]

For each server and each workload (`get` of existing sessions, `create` with a small `d`):

1. peak: wrk with `--connections` connections for `--duration` s: req/s, p50, p99;
2. half load: the same paced to half of that peak (each connection waits between its
   requests; wrk's `delay()`, with the number of connections set from the peak latency):
   req/s reached, p50, p99. The goal is p99 under 10 ms here.

Placement: each server on `--server-cpu` (one core), Redis and wrk on `--client-cpu`. While
wrk runs, the CPU time of the server, of Redis and of wrk is read from /proc: a server near
100% of its core and wrk well below 100% of its own show that the server, not the load
generator, set the pace. Both servers get the same requests, Authorization header included
(the peer, like rest-sessions, has no keys and ignores it). Redis is flushed and `--sessions`
sessions are made before each run; runs alternate between the servers, `--rounds` times, and
the table shows the median of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from project.redis_server import RedisServer, free_port, pin_to_cpu
from sessions_core import RedisSessions

ROOT = Path(__file__).resolve().parents[1]
NODE_PEER = ROOT / "node" / "rest_peer.mjs"
NODE_PACKAGES = ROOT / "node" / "node_modules"
APP = "bench"
WORKLOADS = ("get", "create")
# Each paced connection waits this long between two requests (wrk's delay() takes whole ms).
PACED_DELAY_MS = 4

WRK_SCRIPT = """
wrk.headers["Authorization"] = "Bearer %(key)s"
local tokens = {%(tokens)s}
local workload = "%(workload)s"
local i = 0
if workload == "create" then
  wrk.method = "PUT"
  wrk.body = '{"cart":3,"lang":"en","beta":true}'
  wrk.headers["Content-Type"] = "application/json"
end
request = function()
  i = i + 1
  if workload == "get" then
    return wrk.format(nil, "/api/v1/%(app)s/get/" .. tokens[(i %% #tokens) + 1])
  end
  return wrk.format(nil, "/api/v1/%(app)s/create/user" .. (i %% 1000) .. "?ip=10.0.0.1&ttl=3600")
end
%(delay)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {"requests":%%d,"duration_us":%%d,"errors":%%d,"non2xx":%%d,' ..
    '"p50":%%d,"p90":%%d,"p99":%%d,"max":%%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    connections: int
    cpu: dict[str, float]  # share of one core: server, redis, wrk


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]


def procfile_api_line() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        kind, _, command = line.partition(":")
        if kind.strip() == "api":
            return command.strip()
    raise SystemExit("no api: line in the Procfile")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants, in seconds."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        todo.extend(children.get(current, []))
    return total


def pin_tree(cpu: int, pid: int) -> None:
    for tid in os.listdir(f"/proc/{pid}/task"):
        pin_to_cpu(cpu, int(tid))


@contextmanager
def running(server: Server, port: int, cpu: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            server.command,
            cwd=ROOT,
            env=server.env | {"PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: pin_to_cpu(cpu),  # inherited by whatever it execs
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/ping", timeout=1).is_success:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{server.name} did not start; see {log}")
            time.sleep(0.1)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wrk(
    *,
    url: str,
    script: Path,
    connections: int,
    duration: int,
    cpu: int,
    watch: dict[str, int],
) -> Run:
    before = {name: cpu_seconds(pid) for name, pid in watch.items()}
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    out = subprocess.run(
        ["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
         "--timeout", "5s", "-s", str(script), url],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.monotonic() - started
    after = {name: cpu_seconds(pid) for name, pid in watch.items()}
    # wrk is the only child reaped in between: the growth of the children's usage is its own.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    cpu_share = {name: (after[name] - before[name]) / wall for name in watch}
    cpu_share["wrk"] = wrk_cpu / wall
    return Run(
        rps=result["requests"] / (result["duration_us"] / 1e6),
        p50_ms=result["p50"] / 1000,
        p99_ms=result["p99"] / 1000,
        errors=result["errors"] + result["non2xx"],
        connections=connections,
        cpu=cpu_share,
    )


def write_script(path: Path, *, key: str, tokens: list[str], workload: str, delay: int) -> Path:
    path.write_text(
        WRK_SCRIPT
        % {
            "key": key,
            "tokens": ",".join(f'"{t}"' for t in tokens),
            "workload": workload,
            "app": APP,
            "delay": f"delay = function() return {delay} end" if delay else "",
        }
    )
    return path


def prepare_keys(env: dict[str, str]) -> str:
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [*manage, "create_api_key", "bench", "--apps", APP],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return out.splitlines()[-1]


def fresh_sessions(url: str, count: int) -> list[str]:
    client = redis.Redis.from_url(url)
    client.flushall()
    client.close()
    with RedisSessions(url=url) as rs:
        made = rs.create_many(
            app=APP,
            sessions=[
                {"id": f"user{i}", "ip": "10.0.0.1", "ttl": 7200, "d": {"cart": i}}
                for i in range(count)
            ],
        )
    return [m["token"] for m in made]


def measure(
    server: Server,
    *,
    redis_server: RedisServer,
    key: str,
    args: argparse.Namespace,
    work: Path,
) -> dict[str, tuple[Run, Run]]:
    port = free_port()
    results: dict[str, tuple[Run, Run]] = {}
    assert redis_server.process is not None
    with running(server, port, args.server_cpu, work / f"{server.name}.log") as process:
        watch = {"server": process.pid, "redis": redis_server.process.pid}
        url = f"http://127.0.0.1:{port}"
        for workload in WORKLOADS:
            tokens = fresh_sessions(redis_server.url, args.sessions)
            script = write_script(
                work / f"{workload}.lua", key=key, tokens=tokens, workload=workload, delay=0
            )
            # warm-up, untimed
            wrk(url=url, script=script, connections=args.connections, duration=2,
                cpu=args.client_cpu, watch=watch)  # fmt: skip
            peak = wrk(url=url, script=script, connections=args.connections,
                       duration=args.duration, cpu=args.client_cpu, watch=watch)  # fmt: skip
            # Half load: each paced connection sends one request per (delay + latency).
            target = peak.rps / 2
            per_connection = 1000 / (PACED_DELAY_MS + peak.p50_ms / 4)
            connections = max(1, round(target / per_connection))
            paced_script = write_script(
                work / f"{workload}-paced.lua",
                key=key,
                tokens=tokens,
                workload=workload,
                delay=PACED_DELAY_MS,
            )
            half = wrk(url=url, script=paced_script, connections=connections,
                       duration=args.duration, cpu=args.client_cpu, watch=watch)  # fmt: skip
            # One correction: connections scaled to the rate reached.
            if half.rps > 0 and abs(half.rps - target) / target > 0.1:
                connections = max(1, round(connections * target / half.rps))
                half = wrk(url=url, script=paced_script, connections=connections,
                           duration=args.duration, cpu=args.client_cpu, watch=watch)  # fmt: skip
            results[workload] = (peak, half)
            print(
                f"  {server.name:7} {workload:6} peak {peak.rps:8,.0f} req/s p50 "
                f"{peak.p50_ms:6.2f} ms p99 {peak.p99_ms:6.2f} ms (cpu: "
                + ", ".join(f"{k} {v:.0%}" for k, v in peak.cpu.items())
                + f") | half {half.rps:8,.0f} req/s ({half.connections} conns) p50 "
                f"{half.p50_ms:5.2f} ms p99 {half.p99_ms:5.2f} ms, "
                f"errors {peak.errors + half.errors}",
                flush=True,
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server-cpu", type=int, default=1)
    parser.add_argument("--client-cpu", type=int, default=0)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--skip-node", action="store_true")
    args = parser.parse_args(argv)

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not on PATH (Debian: apt-get install wrk)")
    with_node = not args.skip_node and shutil.which("node") and NODE_PACKAGES.exists()
    if not args.skip_node and not with_node:
        print("!!! node or node/node_modules missing (make node): the Express peer is skipped")

    one, five, _ = os.getloadavg()
    print(f"load average before: {one:.2f} (1 min), {five:.2f} (5 min); {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp:
        work = Path(tmp)
        redis_server = RedisServer(work / "redis").start()
        try:
            assert redis_server.process is not None
            pin_tree(args.client_cpu, redis_server.process.pid)
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("DJANGO_", "RS_")) and k not in {"DATABASE_URL"}
            }
            env |= {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                "REDIS_URL": redis_server.url,
                "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
                "RS_DATA_DIR": str(work),
                "DJANGO_DEBUG": "off",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            }
            key = prepare_keys(env)
            line = procfile_api_line()
            print(f"python: sh -c {line!r} (PORT set)")
            servers = [Server("python", ["sh", "-c", line], env)]
            if with_node:
                node = shutil.which("node") or "node"
                servers.append(Server("node", [node, str(NODE_PEER)], env))
            runs: dict[str, dict[str, list[tuple[Run, Run]]]] = {
                s.name: {w: [] for w in WORKLOADS} for s in servers
            }
            for i in range(args.rounds):
                order = servers if i % 2 == 0 else servers[::-1]
                print(f"round {i + 1}")
                for server in order:
                    measured = measure(
                        server, redis_server=redis_server, key=key, args=args, work=work
                    )
                    for workload, pair in measured.items():
                        runs[server.name][workload].append(pair)
        finally:
            redis_server.stop()
    print_table(runs, args)
    return 0


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def print_table(
    runs: dict[str, dict[str, list[tuple[Run, Run]]]], args: argparse.Namespace
) -> None:
    print(
        f"\nMedians of {args.rounds} rounds; server on CPU {args.server_cpu}, Redis and wrk on "
        f"CPU {args.client_cpu}; {args.connections} connections at peak.\n"
    )
    print("| server | workload | peak req/s | p50 ms | p99 ms | server CPU | wrk CPU "
          "| half load req/s | p50 ms | p99 ms |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, workloads in runs.items():
        for workload, pairs in workloads.items():
            peaks = [p for p, _ in pairs]
            halves = [h for _, h in pairs]
            cells = [
                name,
                workload,
                f"{_median([p.rps for p in peaks]):,.0f}",
                f"{_median([p.p50_ms for p in peaks]):.2f}",
                f"{_median([p.p99_ms for p in peaks]):.2f}",
                f"{_median([p.cpu['server'] for p in peaks]):.0%}",
                f"{_median([p.cpu.get('wrk', 0.0) for p in peaks]):.0%}",
                f"{_median([h.rps for h in halves]):,.0f}",
                f"{_median([h.p50_ms for h in halves]):.2f}",
                f"{_median([h.p99_ms for h in halves]):.2f}",
            ]
            print("| " + " | ".join(cells) + " |")
    if "node" in runs and "python" in runs:
        for workload in WORKLOADS:
            py = _median([p.rps for p, _ in runs["python"][workload]])
            js = _median([p.rps for p, _ in runs["node"][workload]])
            print(f"\n{workload}: python / node peak req/s = {py / js:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
