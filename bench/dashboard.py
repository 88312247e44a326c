"""Benchmark: server time of every dashboard page and fragment over a big session store.

    python -m bench.dashboard [--sessions 1000000] [--users 100000] [--apps 20]
                              [--requests 50] [--profile PAGE] [--url redis://...]

Starts a private Redis, seeds it (`bench.seed`: app sizes falling off like 1/k, so the
biggest app holds ~28% of the sessions), points Django at it with a temporary SQLite
database, logs a superuser in with the test `Client` and requests every page, fragment
and kill `--requests` times, timing each `client.get/post` (server time, in process: no
network, no browser) in wall time and in this thread's CPU time (which a busy machine
inflates less). Kills run on throwaway users created beforehand.

The goal is p95 < 50 ms per request at 1M sessions / 100k users / 20 apps, and no request
doing work that grows with the number of sessions. The second is checked on Redis itself:
per page, the commands run (INFO commandstats deltas, commands called inside Lua scripts
included), how many of them were SCAN or KEYS (must be 0), and how many took over 1 ms
(SLOWLOG). One extra request per page runs under MONITOR, and any whole-range read
(`ZRANGE k 0 -1`, ZRANGEBYSCORE without LIMIT, HGETALL, SMEMBERS of an index) is listed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from redis.commands.core import Script

from bench.seed import SeedReport, seed
from project.redis_server import RedisServer

# SHA1 -> name of sessions_core's Lua scripts, to name them in the SLOWLOG column.
SCRIPTS: dict[str, str] = {}
GOAL_P95_MS = 50.0
SLOW_US = 1000
NAMESPACE = "rs"
HTMX = "true"


METRICS_TOKEN = secrets.token_urlsafe(16)


@dataclass
class Request:
    """One page or fragment to time; `prepare(i)` returns per-request POST data (untimed)."""

    name: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[int], dict[str, str]] | None = None
    status: int = 200


@dataclass
class Result:
    name: str
    times_ms: list[float]
    cpu_ms: list[float]
    calls: float
    scans: int
    slow: int
    slowest: str
    whole_reads: list[str]

    def pct(self, q: float, cpu: bool = False) -> float:
        ordered = sorted(self.cpu_ms if cpu else self.times_ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def configure_django(redis_url: str, db_path: Path) -> None:
    """Settings from the environment, as in production, then DEBUG off before first use."""
    os.environ["REDIS_URL"] = redis_url
    os.environ["RS_NAMESPACE"] = NAMESPACE
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(40)
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ["RS_METRICS_TOKEN"] = METRICS_TOKEN
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django
    from django.conf import settings

    django.setup()
    # Settings were read with DEBUG's development defaults (plain static files, no HTTPS
    # redirect); run the requests without DEBUG's bookkeeping, as a deployment would.
    settings.DEBUG = False


def logged_in_client() -> Any:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    admin = User.objects.create_superuser("bench", password=secrets.token_urlsafe(16))
    client = Client()
    client.force_login(admin)
    return client


def build_requests(report: SeedReport, store: Any, requests: int) -> list[Request]:
    from django.urls import reverse

    big = report.apps[0]
    sessions_in_big = report.per_app[big][0]
    _, busy_id, busy_count = report.busiest_user
    typical_id = typical_user(store, big)
    app_url = reverse("dashboard:app", args=[big])
    user_url = reverse("dashboard:user", args=[big])
    deep_page = max(1, sessions_in_big // 50 // 2)
    last_page = max(1, -(-store.soapp_page(app=big, delta_time=30 * 86400)["total"] // 50))

    def fragment(target: str) -> dict[str, str]:
        return {"HX-Request": HTMX, "HX-Target": target}

    def throwaway(devices: int) -> Callable[[int], dict[str, str]]:
        """Users made before timing: request i ends the sessions of user i of this batch."""
        tag = secrets.token_hex(3)
        ids = [f"bench-{tag}-{i}" for i in range(requests + 10)]
        tokens = {
            id: [store.create(app=big, id=id, ip="10.9.9.9")["token"] for _ in range(devices)]
            for id in ids
        }

        def data(i: int) -> dict[str, str]:
            id = ids[i]
            return {"id": id, "handle": store.handle(app=big, token=tokens[id][0])}

        return data

    return [
        Request("apps page", "GET", reverse("dashboard:apps")),
        Request("apps counts (fragment)", "GET", reverse("dashboard:apps"), fragment("apps-table")),
        Request(f"app page {big} (1 h)", "GET", app_url),
        Request(f"app page {big} (30 days)", "GET", f"{app_url}?window={30 * 86400}"),
        Request(
            f"app page {big} 24 h, page {deep_page}",
            "GET",
            f"{app_url}?window=86400&page={deep_page}",
        ),
        Request(
            f"app table 30 days, last page {last_page} (fragment)",
            "GET",
            f"{app_url}?window={30 * 86400}&page={last_page}",
            fragment("sessions"),
        ),
        Request("app live counts + chart (fragment)", "GET", app_url, fragment("live")),
        Request("app table, search an id (fragment)", "GET", f"{app_url}?q={typical_id}"),
        Request(f"user page ({busy_count} sessions)", "GET", f"{user_url}?id={busy_id}"),
        Request(
            "user sessions (fragment)",
            "GET",
            f"{user_url}?id={typical_id}",
            fragment("user-sessions"),
        ),
        Request("audit page", "GET", reverse("dashboard:audit")),
        Request("healthz", "GET", reverse("dashboard:healthz")),
        Request(
            "metrics scrape (Prometheus)",
            "GET",
            reverse("dashboard:metrics"),
            {"Authorization": f"Bearer {METRICS_TOKEN}"},
        ),
        Request(
            "kill by handle, back to user (htmx)",
            "POST",
            reverse("dashboard:kill_session", args=[big]),
            fragment("user-sessions"),
            {"back": "user"},
            throwaway(2),
        ),
        Request(
            "kill by handle, back to app (htmx)",
            "POST",
            reverse("dashboard:kill_session", args=[big]),
            fragment("sessions"),
            {"back": "app", "window": "3600", "page": "1"},
            throwaway(1),
        ),
        Request(
            "log out everywhere (killsoid, htmx)",
            "POST",
            reverse("dashboard:kill_user", args=[big]),
            fragment("user-sessions"),
            {"back": "user", "confirm": "yes"},
            throwaway(3),
        ),
        Request(
            "kill by handle (no JS: 302)",
            "POST",
            reverse("dashboard:kill_session", args=[big]),
            {},
            {"back": "app"},
            throwaway(1),
            status=302,
        ),
    ]


def typical_user(store: Any, app: str) -> str:
    """An id with a few sessions, among the most recently active."""
    for row in store.soapp_page(app=app, delta_time=3600, limit=200)["rows"]:
        id = row["session"]["id"]
        if 2 <= len(store.soid(app=app, id=id)["sessions"]) <= 10:
            return str(id)
    return str(store.soapp_page(app=app, delta_time=3600, limit=1)["rows"][0]["session"]["id"])


def send(client: Any, request: Request, i: int) -> Any:
    data = dict(request.data)
    if request.prepare is not None:
        data |= request.prepare(i)
    if request.method == "GET":
        return client.get(request.path, headers=request.headers)
    return client.post(request.path, data, headers=request.headers)


def commandstats(r: redis.Redis) -> dict[str, int]:
    info: dict[str, Any] = r.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(stats["calls"]) for name, stats in info.items()}


def watch_one_request(url: str, run: Callable[[], None]) -> list[str]:
    """Run one request under MONITOR; returns the whole-range reads it made."""
    monitor_client = redis.Redis.from_url(url, decode_responses=True)
    marker = f"bench-end-{secrets.token_hex(4)}"
    seen: list[str] = []
    ready = threading.Event()

    def listen() -> None:
        with monitor_client.monitor() as monitor:  # type: ignore[no-untyped-call]
            ready.set()
            for event in monitor.listen():
                command = str(event["command"])
                if marker in command:
                    return
                seen.append(command)

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait()
    control = redis.Redis.from_url(url)
    control.ping()  # MONITOR is active once its reply arrived; a ping orders us after it
    run()
    control.echo(marker)
    thread.join(timeout=30)
    control.close()
    monitor_client.close()
    return [c for c in seen if whole_range(c)]


def whole_range(command: str) -> bool:
    words = command.split()
    if not words:
        return False
    name = words[0].upper()
    if name in {"KEYS", "SCAN", "HGETALL", "FLUSHALL"}:
        return True
    if name in {"ZRANGE", "ZREVRANGE"} and words[-2:] == ["0", "-1"]:
        return True
    if name in {"ZRANGEBYSCORE", "ZREVRANGEBYSCORE"} and "LIMIT" not in (w.upper() for w in words):
        return True
    # A user's token set and the app registry are small by nature; index sets are not.
    return name == "SMEMBERS" and ":us:" not in command and not command.endswith(":_apps")


def measure(
    client: Any, r: redis.Redis, url: str, request: Request, requests: int, offset: int
) -> Result:
    for i in range(3):  # warm caches, compiled templates, script SHA1s
        response = send(client, request, offset + i)
        assert response.status_code == request.status, (request.name, response.status_code)
    r.config_set("slowlog-log-slower-than", SLOW_US)
    r.slowlog_reset()
    before = commandstats(r)
    times, cpu = [], []
    for i in range(requests):
        started, started_cpu = time.perf_counter(), time.thread_time()
        response = send(client, request, offset + 3 + i)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        assert response.status_code == request.status, (request.name, response.status_code)
    after = commandstats(r)
    slow = int(r.slowlog_len())
    entries = sorted(r.slowlog_get(128), key=lambda e: -int(e["duration"]))
    slowest = ""
    if entries:
        command = entries[0]["command"]
        words = (command.decode() if isinstance(command, bytes) else str(command)).split()
        if words[0].upper() == "EVALSHA" and len(words) > 1:
            words = [f"script {SCRIPTS.get(words[1], words[1][:8])}"]
        slowest = f"{' '.join(words[:2])[:40]}: {int(entries[0]['duration']) / 1000:.1f} ms"
    deltas = {name: after[name] - before.get(name, 0) for name in after}
    # Our own INFO/CONFIG/SLOWLOG calls are not the page's.
    for own in ("info", "config|set", "config", "slowlog|reset", "slowlog"):
        deltas.pop(own, None)
    scans = sum(n for name, n in deltas.items() if name in {"scan", "keys"})
    last = offset + 3 + requests
    whole = watch_one_request(url, lambda: send(client, request, last))
    calls = sum(deltas.values()) / requests
    return Result(request.name, times, cpu, calls, scans, slow, slowest, whole)


def profile(client: Any, request: Request, requests: int, offset: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(requests):
        send(client, request, offset + i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(25)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--processes", type=int, default=2, help="seeding processes")
    parser.add_argument("--profile", metavar="PAGE", help="cProfile the pages whose name has this")
    parser.add_argument(
        "--url",
        help="a private Redis to use instead of starting one; seeded when empty, else taken "
        "as seeded earlier by this script with the same sizes (FLUSHALL it to start over)",
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp, ExitStack() as stack:
        url = args.url or stack.enter_context(RedisServer(Path(tmp) / "redis")).url
        r = redis.Redis.from_url(url, decode_responses=True)
        fresh = r.dbsize() == 0
        if fresh:
            print(f"seeding {args.sessions:,} sessions / {args.users:,} users / {args.apps} apps")
        report = seed(
            url,
            sessions=args.sessions,
            users=args.users,
            apps=args.apps,
            namespace=NAMESPACE,
            processes=args.processes,
            write=fresh,
        )
        big = report.apps[0]
        print(
            (f"seeded in {report.seconds:.1f} s; " if fresh else "reused a seeded Redis; ")
            + f"Redis holds {r.dbsize():,} keys, "
            f"{r.info('memory')['used_memory_human']}; biggest app {big}: "
            f"{report.per_app[big][0]:,} sessions of {report.per_app[big][1]:,} users"
        )
        configure_django(url, Path(tmp) / "db.sqlite3")
        from dashboard.store import sessions

        client = logged_in_client()
        SCRIPTS.update(
            {v.sha: k.lstrip("_") for k, v in vars(sessions()).items() if isinstance(v, Script)}
        )
        pages = build_requests(report, sessions(), args.requests)
        if args.profile:
            for request in pages:
                if args.profile in request.name:
                    print(f"\n## cProfile: {request.name}, {args.requests} requests")
                    profile(client, request, args.requests, offset=0)
            return
        print(f"\n{args.requests} timed requests per row after 3 warm-up requests; {load()}\n")
        print(
            "| page | p50 ms | p95 ms | max ms | Django CPU p50 ms | Redis cmds/req | SCAN+KEYS "
            "| >1 ms cmds | slowest Redis cmd | whole-range reads |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
        results = []
        for request in pages:
            result = measure(client, r, url, request, args.requests, offset=0)
            results.append(result)
            verdict = "" if result.pct(0.95) < GOAL_P95_MS else " **(over goal)**"
            print(
                f"| {result.name} | {result.pct(0.5):.1f} | {result.pct(0.95):.1f}{verdict} "
                f"| {max(result.times_ms):.1f} | {result.pct(0.5, cpu=True):.1f} "
                f"| {result.calls:.0f} | {result.scans} "
                f"| {result.slow} | {result.slowest or '-'} "
                f"| {'; '.join(result.whole_reads) or 'none'} |"
            )
        missed = [res.name for res in results if res.pct(0.95) >= GOAL_P95_MS]
        scans = sum(res.scans for res in results)
        print(
            f"\nGoal p95 < {GOAL_P95_MS:.0f} ms: "
            + ("met by every page." if not missed else f"MISSED by {', '.join(missed)}.")
        )
        print(f"SCAN/KEYS calls during page requests: {scans} (must be 0).")
        print(f"{load()}; Python {platform.python_version()}, Redis {r.info()['redis_version']}")
        r.close()
        sessions().close()


if __name__ == "__main__":
    main()
