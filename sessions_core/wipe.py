"""The wipe (timed-out sessions of every app, in bounded atomic batches) and app discovery."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from . import parse
from . import validation as check
from .cache import SessionCache
from .keys import SESSIONS_SUFFIX, USER_TOKENS_INFIX, USERS_SUFFIX, Keys
from .plans import Arg, Pipe, Plan, Run
from .reads import DashboardReads
from .scripts import script
from .types import WipeReport

REGISTERED_SECONDS = 60  # on a cluster, create re-registers its app this often per process
BATCH = 250  # sessions per wipe script call: ~5 ms of Redis time each (bench/wipe.py)
WIPE_BATCH_MAX = 5000  # wipe_batch.lua unpacks a batch; Lua's unpack stops near 8000


class Wipe(DashboardReads):
    """The plans of the wipe and of app discovery. Needs `keys` and `cache`."""

    keys: Keys
    cache: SessionCache | None

    def _wipe_pass(
        self,
        *,
        batch: int = BATCH,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Plan[WipeReport]:
        if type(batch) is not int or not 1 <= batch <= WIPE_BATCH_MAX:
            raise ValueError(f"batch must be an integer from 1 to {WIPE_BATCH_MAX}")
        k = self.keys
        started = time.time()
        foreign: set[str] = set()
        apps: list[str] = []
        if k.cluster:  # the expiry indexes are per bucket: the registry names the apps
            registered = yield from self._cluster_registry()
            if registered is None:  # another program's key: reported, nothing to wipe by
                foreign.add(k.apps_registry)
            apps = registered or []
        indexes = k.expiry_indexes(apps)
        # Expired means an expiry score below now (a session lives while idle <= ttl).
        counts = [("ZCOUNT", index, "-inf", f"({int(started)}") for index, _, _ in indexes]
        replies = (yield Pipe(counts)) if counts else []
        if replies and all(isinstance(reply, Exception) for reply in replies):
            parse.checked(replies)  # no index to wipe by (the one of a standalone server)
        # On a cluster an index of another type (a bucket's `_expires`) is reported and the
        # other buckets are wiped.
        usable = []
        for entry, reply in zip(indexes, replies, strict=True):
            if isinstance(reply, Exception):
                foreign.add(entry[0])
            else:
                usable.append(entry)
        indexes = usable
        backlog = sum(int(n) for n in replies if not isinstance(n, Exception))
        head: list[Arg] = [batch]
        tail: list[Arg] = [
            k.cache_channel,
            SESSIONS_SUFFIX,
            USERS_SUFFIX,
            USER_TOKENS_INFIX,
            check.APP_MIN_LENGTH,
            check.APP_MAX_LENGTH,
        ]
        together = "1" if k.cluster else ""  # one cache message per batch (publish_all)
        pending = [
            Run(script("wipe_batch"), [index], [*head, before, *tail, after, together], write=True)
            for index, before, after in indexes
        ]
        removed = 0
        per_app: dict[str, int] = {}
        while pending:
            replies = yield from self._fan(pending, write=True)
            for _taken, counts_, skipped in replies:
                for app, n in zip(counts_[::2], counts_[1::2], strict=True):
                    per_app[app] = per_app.get(app, 0) + int(n)
                    removed += int(n)
                foreign.update(skipped)
            # An index whose batch came back full may hold more.
            pending = [
                call for call, reply in zip(pending, replies, strict=True) if int(reply[0]) >= batch
            ]
            if progress is not None:
                progress(removed, int(backlog))
            if should_stop is not None and should_stop():
                break
        if self.cache is not None and removed:
            self.cache.clear()
        sizes = [("ZCARD", index) for index, _, _ in indexes]
        remaining = sum(map(int, parse.checked((yield Pipe(sizes))))) if sizes else 0
        report: WipeReport = {
            "started_at": started,
            "duration": time.time() - started,
            "removed": removed,
            "per_app": per_app,
            "remaining": remaining,
            "foreign_keys": sorted(foreign),
        }
        parse.checked((yield Pipe([("SET", k.wipe_report, json.dumps(report))], write=True)))
        return report

    def _discover_cluster_apps(self) -> Plan[list[str]]:
        """On a cluster every app is registered by create; discovery drops the apps whose
        buckets hold no session any more and that no process registered lately (no SCAN:
        it would walk one node only). Returns the apps registered."""
        k = self.keys
        apps = yield from self._apps()
        items: list[Any] = [("EXISTS", b.sessions) for app in apps for b in k.buckets(app)]
        replies = parse.checked((yield Pipe(items))) if items else []
        per_app = len(replies) // len(apps) if apps else 0
        found = [app for i, app in enumerate(apps) if any(replies[i * per_app : (i + 1) * per_app])]
        empty = sorted(set(apps) - set(found))
        if empty:
            recent = 2 * REGISTERED_SECONDS
            drop = Run(script("drop_apps"), [k.apps_registry], [recent, *empty], write=True)
            kept = set(empty) - set(map(str, (yield drop)))
            found = sorted({*found, *kept})
        return found

    def _last_wipe(self) -> Plan[WipeReport | None]:
        (raw,) = yield Pipe([("GET", self.keys.wipe_report)])
        return parse.wipe_report(raw)

    def _discover_apps(
        self, *, count: int = 1000, should_stop: Callable[[], bool] | None = None
    ) -> Plan[list[str]]:
        k = self.keys
        if k.cluster:
            return (yield from self._discover_cluster_apps())
        pattern = k.app_sessions_pattern()
        found: set[str] = set()
        cursor: Any = 0
        complete = True
        while True:
            scan = ("SCAN", cursor, "MATCH", pattern, "COUNT", count, "TYPE", "zset")
            ((cursor, names),) = parse.checked((yield Pipe([scan])))
            for name in map(str, names):
                app = name[len(k.prefix) : -len(SESSIONS_SUFFIX) - 1]
                if check.APP_RE.fullmatch(app):
                    found.add(app)
            if int(cursor) == 0:
                break
            if should_stop is not None and should_stop():
                complete = False
                break
        registered: set[str] = set(found)
        if complete:
            (members,) = yield Pipe([("SMEMBERS", k.apps_registry)])
            if isinstance(members, Exception):  # another program's key: left alone
                return sorted(found)
            registered |= set(map(str, members))
        gone = sorted(registered - found)
        writes: list[Any] = [("SADD", k.apps_registry, *found)] if found else []
        writes += [("EXISTS", k.app_sessions(app)) for app in gone]
        replies = parse.checked((yield Pipe(writes, write=True))) if writes else []
        dead = [app for app, n in zip(gone, replies[1 if found else 0 :], strict=True) if not n]
        if dead:
            parse.checked((yield Pipe([("SREM", k.apps_registry, *dead)], write=True)))
        return sorted(found)
