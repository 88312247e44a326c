"""`manage.py wipe_sessions`: remove timed-out sessions, once or as a long-running service.

The work is the library's wipe pass (`RedisSessions.wipe_pass`): global, in atomic bounded
batches, safe with several wipers at once. This command only schedules passes, stops on
SIGTERM/SIGINT after the current batch, rides out Redis outages, and reports.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# The backoff helper only computes delays; it touches no Redis.
from redis.backoff import EqualJitterBackoff
from tqdm import tqdm

from dashboard.store import sessions
from sessions_core import CorruptData, RedisSessions, StoreUnavailable, WipeReport
from sessions_core.store import BATCH, WIPE_BATCH_MAX

logger = logging.getLogger("dashboard.wipe_sessions")

LARGE_BACKLOG_BATCHES = 10  # show progress when a pass has at least this many batches to do
MAX_RETRY_DELAY = 60.0


def _positive(kind: type[int] | type[float], most: float = float("inf")) -> Any:
    def parse(text: str) -> int | float:
        value = kind(text)
        if not 0 < value <= most:
            raise ValueError(text)
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its error message
    return parse


def retry_delay(backoff: EqualJitterBackoff, failures: int) -> float:
    """Seconds to wait after `failures` failed passes in a row, up to the backoff's cap."""
    # 2**failures inside compute() stops fitting a float past ~1024 failures: 17 h at 60 s.
    return backoff.compute(min(failures, 64))


def summary(report: WipeReport) -> str:
    """One line: what a pass removed, per app, how long it took and what is left."""
    apps = sorted(report["per_app"].items(), key=lambda item: (-item[1], item[0]))
    per_app = " (" + ", ".join(f"{app}: {n}" for app, n in apps) + ")" if apps else ""
    return (
        f"Removed {report['removed']} timed-out sessions in {report['duration']:.2f} s"
        f"{per_app}; {report['remaining']} sessions left."
    )


class Progress:
    """Progress of one pass with a large backlog: a tqdm bar on a terminal, else a log line
    every `every` seconds."""

    def __init__(self, *, batch: int, every: float, tty: bool) -> None:
        self.threshold = batch * LARGE_BACKLOG_BATCHES
        self.every = every
        self.tty = tty
        self.bar: tqdm[Any] | None = None
        self.next_line = time.monotonic() + every

    def __call__(self, removed: int, backlog: int) -> None:
        if backlog < self.threshold:
            return
        if self.tty:
            if self.bar is None:
                self.bar = tqdm(total=backlog, unit="session", desc="wipe", file=sys.stderr)
            self.bar.update(removed - self.bar.n)
        elif time.monotonic() >= self.next_line:
            self.next_line = time.monotonic() + self.every
            done = min(100, 100 * removed // backlog)
            logger.info(
                "Wipe in progress: %d of %d timed-out sessions removed (%d%%)",
                removed,
                backlog,
                done,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class StopFlag:
    """A stop request a signal handler can set: a flag and a byte on a pipe, no lock.

    `threading.Event.set()` takes the lock that its own `wait()` holds for a moment; a SIGTERM
    landing in that moment ran the handler in the same thread and hung the loop for good
    (seen in the service tests, about one run in eight). `wait()` sleeps in `select` on the
    pipe, so a stop still ends the sleep at once.
    """

    def __init__(self) -> None:
        self._set = False
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)

    def set(self) -> None:
        self._set = True
        with suppress(BlockingIOError):  # the pipe is full: the sleeper is woken already
            os.write(self._write, b"\0")

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        if not self._set:
            select.select([self._read], [], [], timeout)
        return self._set

    def close(self) -> None:
        os.close(self._read)
        os.close(self._write)


@contextmanager
def stop_on_signals(stop: StopFlag) -> Iterator[list[str]]:
    """Set `stop` on SIGTERM or SIGINT (main thread only); yields the names of signals seen."""
    seen: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def handler(signum: int, _frame: object) -> None:
        seen.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield seen
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


class Command(BaseCommand):
    help = (
        "Remove the timed-out sessions of every app in the namespace (Node apps' included), "
        "every --interval seconds until SIGTERM/SIGINT, or once with --once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Run one pass, print what it removed, exit."
        )
        parser.add_argument(
            "--interval",
            type=_positive(int),
            default=None,
            help="Seconds from one pass to the next (default: RS_WIPE_INTERVAL, else 600).",
        )
        parser.add_argument(
            "--batch",
            type=_positive(int, most=WIPE_BATCH_MAX),
            default=BATCH,
            help=f"Sessions per atomic batch, at most {WIPE_BATCH_MAX} "
            f"(default {BATCH}: a few ms of Redis time each).",
        )
        parser.add_argument(
            "--no-discover",
            action="store_true",
            help="Skip the keyspace walk after each pass that registers apps only Node wrote.",
        )
        parser.add_argument(
            "--progress-every",
            type=_positive(float),
            default=10.0,
            help="Seconds between progress log lines when stderr is not a terminal.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.reported_keys: set[str] = set()  # foreign keys are logged once per process
        store = sessions()
        interval = options["interval"] or settings.RS_WIPE_INTERVAL
        if interval < 1:
            raise CommandError(f"RS_WIPE_INTERVAL must be at least 1 (seconds), not {interval}.")
        stop = StopFlag()
        try:
            with stop_on_signals(stop) as seen:
                if options["once"]:
                    try:
                        report = self.wipe(store, stop, options)
                        self.stdout.write(summary(report))
                        self.discover(store, stop, options)
                    except (StoreUnavailable, CorruptData) as error:
                        raise CommandError(str(error)) from None
                else:
                    logger.info("Wiping timed-out sessions every %d s.", interval)
                    self.loop(store, stop, interval, options)
        finally:
            stop.close()
        if seen:
            logger.info("Stopped by %s.", seen[0])

    def loop(
        self, store: RedisSessions, stop: StopFlag, interval: int, options: dict[str, Any]
    ) -> None:
        """Pass after pass until `stop` is set; Redis outages are retried, never fatal."""
        backoff = EqualJitterBackoff(cap=min(float(interval), MAX_RETRY_DELAY), base=0.5)
        failures = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                report = self.wipe(store, stop, options)
                if failures:
                    logger.info("Redis is reachable again after %d failed attempts.", failures)
                    failures = 0
                logger.info(summary(report))
                self.discover(store, stop, options)
            except StoreUnavailable as error:
                failures += 1
                delay = retry_delay(backoff, failures)
                logger.warning("%s; retrying in %.1f s.", error, delay)
                stop.wait(delay)
                continue
            except CorruptData as error:
                # Another program's key where the layout's index must be: nothing to wipe
                # until someone removes it, but the service stays up to wipe once it is gone.
                logger.error("Wipe pass impossible: %s; next try in %d s.", error, interval)
            except Exception:
                # The wipe of every app must not stop for one bad pass: log it whole, go on.
                logger.exception("Wipe pass failed; next try in %d s.", interval)
            stop.wait(max(0.0, started + interval - time.monotonic()))

    def wipe(self, store: RedisSessions, stop: StopFlag, options: dict[str, Any]) -> WipeReport:
        """One pass; the library stores its report for the dashboard (`last_wipe()`)."""
        progress = Progress(
            batch=options["batch"], every=options["progress_every"], tty=sys.stderr.isatty()
        )
        try:
            report = store.wipe_pass(
                batch=options["batch"], progress=progress, should_stop=stop.is_set
            )
        finally:
            progress.close()
        for key in report["foreign_keys"]:
            if key not in self.reported_keys:
                self.reported_keys.add(key)
                logger.warning(
                    "Left %r alone: it holds another type than the layout's (another "
                    "program's key); sessions indexed there are wiped without it.",
                    key,
                )
        return report

    def discover(self, store: RedisSessions, stop: StopFlag, options: dict[str, Any]) -> None:
        """Register apps that only a Node app wrote to, so the dashboard lists them: O(keys),
        in SCAN steps that a stop signal cuts short; skipped with --no-discover."""
        if not options["no_discover"] and not stop.is_set():
            apps = store.discover_apps(should_stop=stop.is_set)
            logger.debug("Apps in the namespace: %s", ", ".join(apps))
