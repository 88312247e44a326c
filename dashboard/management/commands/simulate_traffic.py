"""`manage.py simulate_traffic`: a light, steady stream of session operations for demos.

A few operations a second through `sessions_core`: users sign in (some of them users the
demo already has, now on one more device), come back (`get`), change something (`set`) and
sign out (`kill`), so the dashboard's live counts move. It only ever reads, changes or ends
sessions it created itself: the tokens of other sessions are unknown to it by design. Its
sessions are short-lived, so they vanish (through the wipe loop) soon after it stops.
Stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.store import sessions
from sessions_core import DValue, RedisSessions, StoreUnavailable, ValidationError

SESSION_TTL = 30 * 60
POOL_LOW, POOL_HIGH = 20, 150  # own sessions kept alive between these sizes
RETRY_DELAY = 2.0
DEFAULT_APPS = "shop,forum,api_mobile"
PAGES = ("/", "/cart", "/checkout", "/search?q=socks", "/help", "/me")


@dataclass
class Pool:
    """The sessions this simulation created, by app: (token, id) pairs."""

    by_app: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def size(self) -> int:
        return sum(len(tokens) for tokens in self.by_app.values())


@dataclass
class Counts:
    get: int = 0
    set: int = 0
    create: int = 0
    kill: int = 0

    def total(self) -> int:
        return self.get + self.set + self.create + self.kill


class Simulation:
    def __init__(self, rs: RedisSessions, apps: list[str], rng: random.Random) -> None:
        self.rs = rs
        self.apps = apps
        self.rng = rng
        self.pool = Pool({app: [] for app in apps})
        self.known_ids: dict[str, list[str]] = {}
        self.counts = Counts()

    def step(self) -> None:
        """One operation, chosen so the pool stays between POOL_LOW and POOL_HIGH."""
        size = self.pool.size()
        roll = self.rng.random()
        if size < POOL_LOW or (size < POOL_HIGH and roll < 0.15):
            self.sign_in()
        elif size >= POOL_HIGH or roll < 0.25:
            self.sign_out()
        elif roll < 0.40:
            self.change()
        else:
            self.come_back()

    def _own(self) -> tuple[str, int, str]:
        app = self.rng.choice([a for a in self.apps if self.pool.by_app[a]])
        index = self.rng.randrange(len(self.pool.by_app[app]))
        return app, index, self.pool.by_app[app][index][0]

    def sign_in(self) -> None:
        app = self.rng.choice(self.apps)
        known = self._known_ids(app)
        if known and self.rng.random() < 0.5:
            id = self.rng.choice(known)  # an existing user on one more device
        else:
            id = f"visitor-{self.rng.getrandbits(32):08x}"
        ip = f"203.0.113.{self.rng.randint(1, 254)}"
        token = self.rs.create(app=app, id=id, ip=ip, ttl=SESSION_TTL)["token"]
        self.pool.by_app[app].append((token, id))
        self.counts.create += 1

    def come_back(self) -> None:
        app, index, token = self._own()
        if self.rs.get(app=app, token=token) is None:  # wiped or killed from the dashboard
            self.pool.by_app[app].pop(index)
        self.counts.get += 1

    def change(self) -> None:
        app, index, token = self._own()
        d: dict[str, DValue] = {
            "last_page": self.rng.choice(PAGES),
            "cart_items": self.rng.randint(0, 5),
        }
        if self.rs.set(app=app, token=token, d=d) is None:
            self.pool.by_app[app].pop(index)
        self.counts.set += 1

    def sign_out(self) -> None:
        app, index, token = self._own()
        self.rs.kill(app=app, token=token)
        self.pool.by_app[app].pop(index)
        self.counts.kill += 1

    def _known_ids(self, app: str) -> list[str]:
        """Ids of users the app already has (read once): they may sign in again."""
        if app not in self.known_ids:
            page = self.rs.soapp_page(app=app, delta_time=86400, limit=200)
            self.known_ids[app] = sorted({row["session"]["id"] for row in page["rows"]})
        return self.known_ids[app]


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set `stop` on SIGINT/SIGTERM for the duration; previous handlers restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise ValueError(text)
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its error message
    return parse


class Command(BaseCommand):
    help = "Keep a light simulated traffic going (for demos): sign-ins, reads, writes, logouts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rate", type=_positive(float), default=3.0, help="operations per second (3)"
        )
        parser.add_argument(
            "--apps", default=DEFAULT_APPS, help=f"comma-separated apps ({DEFAULT_APPS})"
        )
        parser.add_argument(
            "--duration", type=_positive(float), default=None, help="stop after this many s"
        )
        parser.add_argument(
            "--iterations", type=_positive(int), default=None, help="stop after this many ops"
        )
        parser.add_argument("--seed", type=int, default=None, help="random seed (default: new)")

    def handle(self, *args: Any, **options: Any) -> None:
        apps = [a.strip() for a in options["apps"].split(",") if a.strip()]
        rs = sessions()
        try:
            rs.app_stats(apps=apps or [""])  # validates the names; a read, nothing written
        except ValidationError as error:
            raise CommandError(f"--apps: {error}") from None
        except StoreUnavailable:
            pass  # the loop below waits for Redis
        simulation = Simulation(rs, apps, random.Random(options["seed"]))
        stop = threading.Event()
        interval = 1.0 / options["rate"]
        deadline = None if options["duration"] is None else time.monotonic() + options["duration"]
        iterations = options["iterations"]
        outage = False
        with stop_on_signals(stop):
            # Announced once the signal handlers are in place: a reader may stop us at once.
            self.stdout.write(
                f"Simulating traffic on {', '.join(apps)} ({options['rate']:g} operations/s)."
            )
            self.stdout.flush()
            while not stop.is_set():
                if iterations is not None and simulation.counts.total() >= iterations:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
                try:
                    simulation.step()
                except StoreUnavailable as error:
                    if not outage:
                        self.stderr.write(f"Redis unavailable, retrying: {error}")
                    outage = True
                    stop.wait(RETRY_DELAY)
                    continue
                if outage:
                    self.stderr.write("Redis is back.")
                    outage = False
                stop.wait(interval)
        c = simulation.counts
        self.stdout.write(
            f"Simulated {c.total()} operations: {c.create} sign-ins, {c.get} gets, "
            f"{c.set} sets, {c.kill} sign-outs."
        )
