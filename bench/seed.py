"""Bulk-seed a Redis with sessions in redis-sessions 4.0.0's wire layout, fast.

    python -m bench.seed --url redis://127.0.0.1:7000/0 --sessions 1000000 --users 100000

Writes what `RedisSessions.create` would have written, but straight into the keys with
pipelined variadic commands instead of one Lua call per session, and with last activity
spread back over `--spread` seconds (create always stamps "now"). Key names come from
`sessions_core.keys.Keys`; the field layout is ARCHITECTURE.md's:

    {ns}:{app}:{token}      hash  id r w ip la ttl [d]
    {ns}:{app}:_sessions    zset  {token}:{id} -> la
    {ns}:{app}:us:{id}      set   tokens
    {ns}:{app}:_users       zset  {id} -> newest la of the id
    {ns}:SESSIONS           zset  {app}:{token}:{id} -> la + ttl
    {ns}:_apps              set   the apps

Shape of the data: app sizes fall off like 1/k (the first app is the biggest), every user
lives in one app and has at least one session, devices per user follow an exponential
distribution (mean sessions/users, a few users with dozens), and last activity is denser
near "now" (idle = spread * u**1.5). Every session is alive (ttl > idle). Deterministic for
a given `--seed` and `now`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import hiredis
import redis

from sessions_core.keys import Keys

CHUNK = 20_000  # sessions per round trip
TTLS = (2 * 86400, 7 * 86400, 30 * 86400)  # all longer than the activity spread
PLANS = ("free", "pro", "team")
TTL_TEXT = {ttl: str(ttl) for ttl in TTLS}


@dataclass
class SeedReport:
    sessions: int
    users: int
    apps: list[str]
    seconds: float
    now: int
    # Per app: (sessions, users); and the id with the most sessions in the biggest app.
    per_app: dict[str, tuple[int, int]] = field(default_factory=dict)
    busiest_user: tuple[str, str, int] = ("", "", 0)  # (app, id, sessions)


def default_app_names(apps: int) -> list[str]:
    return [f"app{k:02d}" for k in range(apps)]


def user_id(index: int) -> str:
    return f"user{index:07d}"


def plan_devices(sessions: int, users: int, rng: random.Random) -> list[int]:
    """Sessions per user: at least one each, the rest spread with exponential weights."""
    counts = [1] * users
    weights = [rng.expovariate(1.0) for _ in range(users)]
    for index in rng.choices(range(users), weights=weights, k=sessions - users):
        counts[index] += 1
    return counts


def _bulk(text: str) -> str:
    return f"${len(text.encode())}\r\n{text}\r\n"


class RawPipeline:
    """RESP written straight to a socket: redis-py packs ~5 us per command, this ~1 us.

    Commands are buffered as text; `flush()` sends them and returns at once, and the replies
    are read (and checked for errors) at the next flush, so Redis works on one batch while
    Python builds the next. The server buffers replies meanwhile, so nothing deadlocks.
    """

    def __init__(self, url: str) -> None:
        kwargs = redis.Redis.from_url(url).connection_pool.connection_kwargs
        self.sock = socket.create_connection((kwargs["host"], kwargs["port"]), timeout=300)
        self.reader = hiredis.Reader()
        self.parts: list[str] = []
        self.queued = 0
        self.in_flight = 0
        if kwargs.get("password"):
            auth = [kwargs["username"]] if kwargs.get("username") else []
            self.command("AUTH", *auth, kwargs["password"])
        if kwargs.get("db"):
            self.command("SELECT", str(kwargs["db"]))

    def command(self, *args: str) -> None:
        self.packed(f"*{len(args)}\r\n" + "".join(_bulk(a) for a in args), 1)

    def packed(self, text: str, commands: int) -> None:
        """Queue already packed RESP text holding `commands` commands."""
        self.parts.append(text)
        self.queued += commands

    def flush(self) -> None:
        self._read_replies()
        if self.queued:
            self.sock.sendall("".join(self.parts).encode())
            self.parts = []
            self.in_flight, self.queued = self.queued, 0

    def _read_replies(self) -> None:
        while self.in_flight:
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("Redis closed the connection while seeding")
            self.reader.feed(data)
            while (reply := self.reader.gets()) is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise reply
                self.in_flight -= 1

    def close(self) -> None:
        self.flush()
        self._read_replies()
        self.sock.close()


def _zadd(key: str, scored: list[tuple[int, str]]) -> str:
    """ZADD key score member ..., packed; members and scores as RESP bulk strings."""
    body = "".join(_bulk(str(score)) + _bulk(member) for score, member in scored)
    return f"*{2 + 2 * len(scored)}\r\n" + _bulk("ZADD") + _bulk(key) + body


@dataclass(frozen=True)
class _Plan:
    """Who has how many sessions where: decided once, written by one or more workers."""

    url: str
    namespace: str
    names: list[str]
    ids: list[str] | None
    devices: list[int]
    home: list[int]
    now: int
    spread: int
    random_seed: int


def seed(
    url: str,
    *,
    sessions: int,
    users: int,
    apps: int = 1,
    app_names: Sequence[str] | None = None,
    namespace: str = "rs",
    spread: int = 86400,
    now: int | None = None,
    random_seed: int = 0,
    ids: Sequence[str] | None = None,
    processes: int = 1,
    write: bool = True,
) -> SeedReport:
    """Write `sessions` sessions of `users` users over the apps; returns what was written.

    `ids`, when given, names the users (len(ids) >= users) instead of `user0000001` ...
    `processes` > 1 splits the users over that many worker processes. `write=False` only
    describes what the same arguments write (to reuse a Redis seeded earlier).
    """
    started = time.perf_counter()
    names = list(app_names) if app_names else default_app_names(apps)
    users = max(1, min(users, sessions)) if sessions else 0
    if ids is not None and len(ids) < users:
        raise ValueError("ids must name every user")
    keys = Keys(namespace)
    if keys.session("app", "token") != keys.app_prefix("app") + "token":
        raise RuntimeError("seed.py assumes session keys are Keys.app_prefix(app) + token")
    if now is None:
        client = redis.Redis.from_url(url)
        now = int(client.time()[0])
        client.close()
    rng = random.Random(random_seed)
    app_weights = [1.0 / (k + 1) for k in range(len(names))]
    plan = _Plan(
        url=url,
        namespace=namespace,
        names=names,
        ids=list(ids[:users]) if ids is not None else None,
        devices=plan_devices(sessions, users, rng) if users else [],
        home=rng.choices(range(len(names)), weights=app_weights, k=users),
        now=now,
        spread=spread,
        random_seed=random_seed,
    )
    if write:
        jobs = [(plan, worker, processes) for worker in range(processes)]
        if processes > 1:
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                pool.starmap(_write_users, jobs)
        else:
            _write_users(*jobs[0])
        if names:
            client = redis.Redis.from_url(url)
            client.sadd(keys.apps_registry, *names)
            client.close()
    per_app_sessions = [0] * len(names)
    per_app_users = [0] * len(names)
    for k, count in zip(plan.home, plan.devices, strict=True):
        per_app_sessions[k] += count
        per_app_users[k] += 1
    busiest = max(
        (i for i, k in enumerate(plan.home) if k == 0), key=plan.devices.__getitem__, default=None
    )
    return SeedReport(
        sessions=sessions,
        users=users,
        apps=names,
        seconds=time.perf_counter() - started,
        now=now,
        per_app={
            name: (per_app_sessions[k], per_app_users[k])
            for k, name in enumerate(names)
            if per_app_sessions[k]
        },
        busiest_user=("", "", 0)
        if busiest is None
        else (names[0], _name(plan, busiest), plan.devices[busiest]),
    )


def _name(plan: _Plan, index: int) -> str:
    return plan.ids[index] if plan.ids is not None else user_id(index)


def _write_users(plan: _Plan, worker: int, workers: int) -> None:
    """Write the sessions of users worker, worker + workers, ... of the plan."""
    names, keys, now, spread = plan.names, Keys(plan.namespace), plan.now, plan.spread
    rng = random.Random(plan.random_seed * 1000 + worker + 1)
    pipe = RawPipeline(plan.url)
    buffered = 0
    app_sessions: dict[int, list[tuple[int, str]]] = {}
    app_users: dict[int, list[tuple[int, str]]] = {}
    all_sessions: list[tuple[int, str]] = []

    def flush() -> None:
        nonlocal buffered
        for k, scored in app_sessions.items():
            pipe.packed(_zadd(keys.app_sessions(names[k]), scored), 1)
        for k, scored in app_users.items():
            pipe.packed(_zadd(keys.app_users(names[k]), scored), 1)
        if all_sessions:
            pipe.packed(_zadd(keys.all_sessions, all_sessions), 1)
        pipe.flush()
        app_sessions.clear()
        app_users.clear()
        all_sessions.clear()
        buffered = 0

    random_ = rng.random
    bits = rng.getrandbits
    for index in range(worker, len(plan.devices), workers):
        k = plan.home[index]
        app = names[k]
        id = _name(plan, index)
        id_bulk = _bulk(id)
        prefix = keys.app_prefix(app)  # a session key is this prefix + token
        prefix_len = len(prefix.encode())
        count = plan.devices[index]
        tokens = []
        newest = 0
        text = []
        for _ in range(count):
            # Only the id can be non-ASCII: every other length is its character count.
            token = f"{bits(256):064x}"
            la = now - int(spread * random_() ** 1.5)
            ttl = TTLS[bits(8) % 3]
            ip = bits(24)
            ip_text = f"10.{ip >> 16}.{(ip >> 8) & 255}.{(ip & 255) | 1}"
            r, w, la_text = str(1 + bits(8)), str(1 + bits(5)), str(la)
            session_key = prefix + token
            fields = 12
            d = ""
            if random_() < 0.3:
                d_text = f'{{"plan":"{PLANS[bits(8) % 3]}","unread":{bits(4)}}}'
                d = f"$1\r\nd\r\n${len(d_text)}\r\n{d_text}\r\n"
                fields = 14
            text.append(
                f"*{fields + 2}\r\n$4\r\nHSET\r\n${prefix_len + 64}\r\n{session_key}\r\n"
                f"$2\r\nid\r\n{id_bulk}"
                f"$1\r\nr\r\n${len(r)}\r\n{r}\r\n$1\r\nw\r\n${len(w)}\r\n{w}\r\n"
                f"$2\r\nip\r\n${len(ip_text)}\r\n{ip_text}\r\n"
                f"$2\r\nla\r\n${len(la_text)}\r\n{la_text}\r\n"
                f"$3\r\nttl\r\n${len(TTL_TEXT[ttl])}\r\n{TTL_TEXT[ttl]}\r\n{d}"
            )
            app_sessions.setdefault(k, []).append((la, f"{token}:{id}"))
            all_sessions.append((la + ttl, f"{app}:{token}:{id}"))
            tokens.append(token)
            newest = max(newest, la)
        pipe.packed("".join(text), count)
        pipe.command("SADD", keys.user_tokens(app, id), *tokens)
        app_users.setdefault(k, []).append((newest, id))
        buffered += count
        if buffered >= CHUNK:
            flush()
    flush()
    pipe.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True, help="Redis URL (never a production server)")
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--apps", type=int, default=20)
    parser.add_argument("--namespace", default="rs")
    parser.add_argument("--spread", type=int, default=86400, help="seconds of activity")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=2, help="writer processes")
    args = parser.parse_args(argv)
    report = seed(
        args.url,
        sessions=args.sessions,
        users=args.users,
        apps=args.apps,
        namespace=args.namespace,
        spread=args.spread,
        random_seed=args.seed,
        processes=args.processes,
    )
    rate = report.sessions / report.seconds if report.seconds else 0
    print(
        f"seeded {report.sessions:,} sessions of {report.users:,} users in "
        f"{len(report.apps)} apps in {report.seconds:.1f} s ({rate:,.0f} sessions/s)"
    )
    app, id, count = report.busiest_user
    print(f"biggest app {app}: {report.per_app.get(app, (0, 0))}; busiest user {id}: {count}")


if __name__ == "__main__":
    main()
