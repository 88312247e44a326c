"""The dashboard's reads: apps and their counts, pages of sessions with handles (never tokens),
and the kill by handle. Another program's unreadable data is marked, never fatal."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass

from . import parse
from . import validation as check
from .errors import CorruptData, KillInterrupted, StoreUnavailable, ValidationError
from .keys import Keys
from .operations import Operations, WalkState
from .plans import Command, Every, Pipe, Plan, Run
from .scripts import script
from .types import (
    AppSessionPage,
    AppStats,
    Killed,
    ServerInfo,
    Session,
    SessionPage,
    SessionRow,
)

ACTIVITY_WINDOWS = (60, 600, 3600, 86400)
APP_SAMPLE = 200
SCAN_STEP, SCAN_STEPS = 1000, 5  # a prefix walk: 5 ZSCAN steps of 1000 per script call
PREFIX_SESSIONS_MAX = 2000  # sessions a prefix search reads, whatever the matching ids hold
IP_STEP = 2000  # sessions looked at per filter_ip.lua call: ~7 ms of Redis time
IP_SECONDS = 0.15  # an IP walk stops after this long, saying it stopped early
LIVE_CHUNK = 2000  # sessions judged per last_activity.lua call: a few ms of Redis time


@dataclass(frozen=True, slots=True)
class WindowCursor:
    """Where a walk of an app's window stands (a `WalkState` no step changes: each step
    walks on from a copy, so a cursor can be used again). Opaque to callers."""

    state: WalkState


class DashboardReads(Operations):
    """The plans of the dashboard's reads. Needs `keys`, `cache` and `_handle_key`."""

    _handle_key: bytes

    def handle(self, *, app: str, token: str) -> str:
        """A non-secret name for a session: an HMAC of its token, safe in HTML and URLs."""
        mac = hmac.new(self._handle_key, f"{app}:{token}".encode(), hashlib.sha256)
        return mac.hexdigest()[:24]

    def _cluster_registry(self) -> Plan[list[str] | None]:
        """A cluster's registered apps (create registers every app there: no Node app writes
        to a cluster); None when another program's key of another type holds the name."""
        (found,) = yield Pipe([("HKEYS", self.keys.apps_registry)])
        if isinstance(found, Exception):
            return None
        return sorted(app for app in found if check.APP_RE.fullmatch(app))

    def _apps(self) -> Plan[list[str]]:
        k = self.keys
        if k.cluster:
            return (yield from self._cluster_registry()) or []
        lengths = [check.APP_MIN_LENGTH, check.APP_MAX_LENGTH]
        found = yield Run(
            script("known_apps"), [k.all_sessions, k.apps_registry], [APP_SAMPLE, *lengths]
        )
        # The registry is ours, but any program can write to it.
        return sorted(app for app in found if check.APP_RE.fullmatch(app))

    def _has_app(self, *, app: str) -> Plan[bool]:
        app = check.app(app)
        k = self.keys
        items: list[Command] = [("EXISTS", b.sessions, b.users) for b in k.buckets(app)]
        member = ("HEXISTS" if k.cluster else "SISMEMBER", k.apps_registry, app)
        replies = yield Pipe([*items, member])
        # An error reply (a registry key of another type, written by another program) is a no.
        return any(isinstance(reply, int) and reply > 0 for reply in replies)

    def _app_stats(
        self, *, apps: Sequence[str], windows: Sequence[int] = ACTIVITY_WINDOWS
    ) -> Plan[list[AppStats]]:
        apps = [check.app(a) for a in apps]
        windows = [check.delta_time(w) for w in windows]
        if not apps:
            return []
        k = self.keys
        count_since = script("count_since")
        items: list[Run | Command] = []
        for app in apps:
            for b in k.buckets(app):
                items.append(("ZCARD", b.sessions))
                items.append(Run(count_since, [b.users], [*windows, 10**12]))
        replies = yield Pipe(items)
        per_app = len(replies) // len(apps)
        stats: list[AppStats] = []
        for i, app in enumerate(apps):
            mine = replies[i * per_app : (i + 1) * per_app]
            if any(isinstance(reply, Exception) for reply in mine):
                # One app's index of another type must not hide the other apps' counts.
                first = k.buckets(app)[0]
                problem = f"{first.sessions} or {first.users} is not a sorted set"
                zeros = dict.fromkeys(windows, 0)
                stats.append(
                    {"app": app, "sessions": 0, "users": 0, "active": zeros, "problem": problem}
                )
                continue
            sessions = sum(int(n) for n in mine[::2])
            counts = [sum(int(c[j]) for c in mine[1::2]) for j in range(len(windows) + 2)]
            active = {w: c for w, c in zip(windows, counts[1:-1], strict=True)}
            stats.append({"app": app, "sessions": sessions, "users": counts[-1], "active": active})
        return stats

    def _activity_histogram(self, *, app: str, bucket: int, buckets: int) -> Plan[list[int]]:
        app = check.app(app)
        bucket = check.delta_time(bucket)
        if isinstance(buckets, bool) or not isinstance(buckets, int) or not 1 <= buckets <= 1000:
            raise ValidationError("invalidValue", "buckets must be an integer from 1 to 1000")
        ends = [bucket * (i + 1) for i in range(buckets)]
        calls = [Run(script("count_since"), [b.users], ends) for b in self.keys.buckets(app)]
        replies = yield from self._fan(calls)
        cumulative = [sum(int(reply[j]) for reply in replies) for j in range(1, buckets + 1)]
        return [c - (cumulative[i - 1] if i else 0) for i, c in enumerate(cumulative)]

    def _soapp_page(
        self, *, app: str, delta_time: int, offset: int, limit: int, oldest_first: bool = False
    ) -> Plan[SessionPage]:
        app = check.app(app)
        delta = check.delta_time(delta_time)
        parse.paging(offset, limit)
        # Redis refuses offsets beyond a 64-bit integer; any offset past 2**53 is past the end.
        try:
            total, now, members = yield from self._window_members(
                app, delta, min(offset, 2**53), limit, oldest_first
            )
        except CorruptData:
            index = self.keys.buckets(app)[0].sessions
            problem = f"{index} is not a sorted set (another program's key)"
            return {"total": 0, "offset": offset, "limit": limit, "rows": [], "problem": problem}
        rows = yield from self._rows(app, [Keys.split_token_member(m) for m in members], now)
        return {"total": total, "offset": offset, "limit": limit, "rows": rows}

    def _window_step(
        self,
        *,
        app: str,
        delta_time: int,
        oldest_first: bool,
        chunk: int,
        cursor: WindowCursor | None,
    ) -> Plan[tuple[list[SessionRow], WindowCursor | None]]:
        """The next `chunk` sessions of a walk of the window (newest or oldest first) and the
        cursor after them (None at the end), for exports of any size.

        A k-way walk of the buckets (`_walk`): a walk of N sessions reads about N members
        whatever the number of buckets. On a standalone server (one bucket) a step is one
        rank range. Sessions active during the walk move to the top of the window: they may
        be missed or seen twice, as with paging.
        """
        app = check.app(app)
        delta = check.delta_time(delta_time)
        parse.paging(0, chunk)
        buckets = self.keys.buckets(app)
        state = WalkState.start(len(buckets), chunk) if cursor is None else cursor.state.copy()
        picked, now, _total = yield from self._walk(buckets, delta, oldest_first, chunk, state)
        pairs = [Keys.split_token_member(member) for _, member in picked]
        rows = yield from self._rows(app, pairs, now)
        return rows, None if all(state.done) else WindowCursor(state)

    def _user_sessions(self, *, app: str, id: str) -> Plan[list[SessionRow]]:
        app = check.app(app)
        id = check.user_id(id)
        tokens, now = yield from self._user_tokens(app, id)
        rows = yield from self._rows(app, [(token, id) for token in tokens], now)
        rows.sort(key=lambda row: row["last_activity"], reverse=True)
        return rows

    def _user_page(
        self, *, app: str, id: str, offset: int, limit: int, delta_time: int | None
    ) -> Plan[SessionPage]:
        app = check.app(app)
        id = check.user_id(id)
        within = None if delta_time is None else check.delta_time(delta_time)
        parse.paging(offset, limit)
        try:
            tokens, now = yield from self._user_live_tokens(app, id, within)
        except CorruptData:
            problem = "this id's token set (us:{id}) is not a set (another program's key)"
            return {"total": 0, "offset": offset, "limit": limit, "rows": [], "problem": problem}
        page = [(token, id) for token in tokens[offset : offset + limit]]
        rows = yield from self._rows(app, page, now)
        return {"total": len(tokens), "offset": offset, "limit": limit, "rows": rows}

    def _user_everywhere(self, *, id: str, limit: int) -> Plan[list[AppSessionPage]]:
        """The id's live sessions in every app that has any, newest first, `limit` per app.

        O(apps + the id's sessions): one round trip asks every app for the id's token set,
        then only the apps holding some are read.
        """
        id = check.user_id(id)
        parse.paging(0, limit)
        held = yield from self._apps_holding(id)
        pages: list[AppSessionPage] = []
        for app, count in held.items():
            page = yield from self._user_page(
                app=app, id=id, offset=0, limit=limit, delta_time=None
            )
            if page["total"] or "problem" in page or count < 0:
                pages.append({"app": app, **page})
        return pages

    def _killsoid_everywhere(self, *, id: str) -> Plan[dict[str, int]]:
        """killsoid in every app holding the id; returns what each app ended. A fault
        part-way raises KillInterrupted with the apps done so far in `.per_app`."""
        id = check.user_id(id)
        held = yield from self._apps_holding(id)
        ended: dict[str, int] = {}
        for app, count in held.items():
            if count < 0:
                continue  # another program's key: left alone, as killsoid does
            try:
                ended[app] = (yield from self._killsoid(app=app, id=id))["kill"]
            except StoreUnavailable as error:
                if isinstance(error, KillInterrupted):
                    ended[app] = error.killed
                total = sum(ended.values())
                if not total:
                    raise
                raise KillInterrupted(
                    f"{error}; {total} sessions had been ended before the fault",
                    killed=total,
                    per_app=ended,
                ) from None
        return ended

    def _prefix_page(
        self, *, app: str, prefix: str, delta_time: int, limit: int, budget: int
    ) -> Plan[SessionPage]:
        """Sessions (active within `delta_time`) of ids starting with `prefix`, newest first.

        The ids come from a bounded walk of the app's `_users` (at most `budget` members, in
        script calls of a few ms each); the page says `complete: False` when the walk
        stopped before the end (the budget, or `limit` ids found).
        """
        app = check.app(app)
        prefix = check.user_id(prefix)
        delta = check.delta_time(delta_time)
        parse.paging(0, limit)
        k = self.keys
        pattern = k.wire(Keys.glob_escape(prefix) + "*")
        scan = script("scan_ids")
        buckets = k.buckets(app)
        # A round (a walk in every bucket) looks at about SCAN_STEP * SCAN_STEPS ids.
        step = max(SCAN_STEP // len(buckets), 10)
        cursors = {b.users: "0" for b in buckets}
        scanned = 0
        ids: list[str] = []
        while cursors:
            calls = [
                Run(scan, [users], [cursor, step, SCAN_STEPS, pattern, limit])
                for users, cursor in cursors.items()
            ]
            replies = yield from self._fan(calls)
            for users, reply in zip(list(cursors), replies, strict=True):
                ids += [str(i) for i in reply[1:]]
                if str(reply[0]) == "0":
                    del cursors[users]
                else:
                    cursors[users] = str(reply[0])
            scanned += step * SCAN_STEPS * len(calls)
            if len(ids) >= limit or scanned >= budget:
                break
        ids = ids[:limit]
        items: list[Command] = [("SMEMBERS", k.of_id(app, id).user_tokens(id)) for id in ids]
        *replies, (now, _micro) = yield Pipe([*items, ("TIME",)])
        pairs = [
            (str(token), id)
            for id, members in zip(ids, replies, strict=True)
            if not isinstance(members, Exception)
            for token in members
        ]
        # A matching bot id with 100k sessions must not make the page read them all.
        truncated = len(pairs) > PREFIX_SESSIONS_MAX
        rows = yield from self._rows(app, pairs[:PREFIX_SESSIONS_MAX], int(now))
        rows = [row for row in rows if "problem" in row or row["session"]["idle"] <= delta]
        rows.sort(key=lambda row: row["last_activity"], reverse=True)
        complete = not cursors and len(ids) < limit and not truncated
        page: SessionPage = {"total": len(rows), "offset": 0, "limit": limit, "rows": rows[:limit]}
        page["complete"] = complete
        return page

    def _ip_page(
        self, *, app: str, ip: str, prefix: bool, delta_time: int, limit: int, budget: int
    ) -> Plan[SessionPage]:
        """Sessions active within `delta_time` whose ip is `ip` (or starts with it), newest
        first: a walk of the window in script calls of IP_STEP sessions, at most `budget`
        sessions; `complete` says whether it reached the window's end."""
        app = check.app(app)
        ip = check.ip(ip)
        delta = check.delta_time(delta_time)
        parse.paging(0, limit)
        step = script("filter_ip")
        buckets = self.keys.buckets(app)
        # A round (a step in every bucket) looks at about IP_STEP sessions, never over budget.
        size = max(min(IP_STEP, budget) // len(buckets), 1)
        ranks = {b.sessions: (0, b.prefix) for b in buckets}  # per bucket: next rank, prefix
        walked = 0
        members: list[str] = []
        # A time budget too: each session costs Redis an HGET, so a walk of a long window
        # would take about a second at 200k; an operator gets what was found in IP_SECONDS.
        deadline = time.monotonic() + IP_SECONDS
        while ranks and len(members) < limit and walked < budget:
            if walked and time.monotonic() > deadline:
                break
            match = "1" if prefix else ""
            calls = [
                Run(step, [index], [delta, rank, size, ip, match, hashes])
                for index, (rank, hashes) in ranks.items()
            ]
            replies = yield from self._fan(calls)
            for index, reply in zip(list(ranks), replies, strict=True):
                if int(reply[0]) < 0:
                    del ranks[index]
                else:
                    ranks[index] = (int(reply[0]), ranks[index][1])
                members += [str(m) for m in reply[1:]]
            walked += size * len(calls)
        ((now, _micro),) = parse.checked((yield Pipe([("TIME",)])))
        # Each bucket's matches come newest first: the newest `limit` overall are among the
        # first `limit` of each.
        pairs = [Keys.split_token_member(m) for m in members[: limit * len(buckets)]]
        rows = yield from self._rows(app, pairs, int(now))
        rows.sort(key=lambda row: row["last_activity"], reverse=True)  # buckets merged
        rows = rows[:limit]
        page: SessionPage = {"total": len(rows), "offset": 0, "limit": limit, "rows": rows}
        page["complete"] = not ranks and len(members) <= limit
        return page

    def _server_info(self) -> Plan[ServerInfo]:
        """The server, or a cluster's masters summed (their versions listed when they
        differ)."""
        infos = yield Every(("INFO",))
        versions = sorted({str(info.get("redis_version", "?")) for info in infos})
        return {
            "version": " / ".join(versions),
            "masters": len(infos),
            "used_memory": sum(int(info.get("used_memory", 0)) for info in infos),
            "connected_clients": sum(int(info.get("connected_clients", 0)) for info in infos),
            "ops_per_sec": sum(int(info.get("instantaneous_ops_per_sec", 0)) for info in infos),
        }

    def _apps_holding(self, id: str) -> Plan[dict[str, int]]:
        """The apps whose token set of `id` is not empty: app -> its size (-1 when the key is
        another program's, of another type)."""
        apps = yield from self._apps()
        k = self.keys
        replies = yield Pipe([("SCARD", k.of_id(app, id).user_tokens(id)) for app in apps])
        return {
            app: -1 if isinstance(n, Exception) else int(n)
            for app, n in zip(apps, replies, strict=True)
            if isinstance(n, Exception) or n
        }

    def _kill_by_handle(self, *, app: str, id: str, handle: str) -> Plan[Killed]:
        app = check.app(app)
        id = check.user_id(id)
        if not isinstance(handle, str) or not handle:
            return {"kill": 0}
        try:
            tokens, _now = yield from self._user_tokens(app, id)
        except CorruptData:
            return {"kill": 0}
        for token in tokens:
            if hmac.compare_digest(self.handle(app=app, token=token), handle):
                # The token comes from Redis, not from a caller: another program's odd
                # token is still ended (and so is a session key of another type).
                return (yield from self._kill_token(app, token, id))
        return {"kill": 0}

    # -- helpers ------------------------------------------------------------------------------

    def _user_live_tokens(
        self, app: str, id: str, within: int | None
    ) -> Plan[tuple[list[str], int]]:
        """The id's live tokens, newest activity first (those active within `within` s).

        The judging runs in Redis, LIVE_CHUNK sessions per script call, all calls in one round
        trip: only live tokens' activity comes back. Sessions another program made unreadable
        cannot be judged: they come last.
        """
        tokens, now = yield from self._user_tokens(app, id)
        prefix = self.keys.of_id(app, id).prefix
        last_activity = script("last_activity")
        calls = [
            Run(
                last_activity,
                [prefix + t for t in tokens[start : start + LIVE_CHUNK]],
                [within or 0],
            )
            for start in range(0, len(tokens), LIVE_CHUNK)
        ]
        replies = parse.checked((yield Pipe(calls))) if calls else []
        activity: list[tuple[int, str]] = []
        for start, reply in zip(range(0, len(tokens), LIVE_CHUNK), replies, strict=True):
            for index, la in zip(reply[::2], reply[1::2], strict=True):
                activity.append((int(la), tokens[start + int(index) - 1]))
        activity.sort(reverse=True)
        return [token for _, token in activity], now

    def _rows(self, app: str, pairs: Sequence[tuple[str, str]], now: int) -> Plan[list[SessionRow]]:
        """Dashboard rows of `(token, id)` pairs (the id as an index names it); timed-out
        sessions are left out, unreadable ones kept with a `problem` so they can be killed."""
        replies = yield from self._hmget_many(app, [token for token, _ in pairs], parse.FIELDS)
        rows: list[SessionRow] = []
        for (token, id), fields in zip(pairs, replies, strict=True):
            handle = self.handle(app=app, token=token)
            try:
                if isinstance(fields, Exception):
                    raise parse.foreign(fields)
                found = parse.session(fields, now)
            except CorruptData as error:
                rows.append(_unreadable_row(handle, id, fields, str(error)))
                continue
            if found is not None:
                rows.append(
                    {
                        "handle": handle,
                        "session": found,
                        "last_activity": now - found["idle"],
                        "expires_in": parse.expires_in(found),
                    }
                )
        return rows


def _unreadable_row(handle: str, id: str, fields: object, problem: str) -> SessionRow:
    """A row for a session another program made unreadable: what can be read, and why not."""
    readable = isinstance(fields, list)
    ip = fields[6] if readable and fields[6] is not None else ""  # type: ignore[index]
    stored_id = fields[0] if readable and fields[0] else id  # type: ignore[index]
    session: Session = {"id": str(stored_id), "r": 0, "w": 0, "ttl": 0, "idle": 0, "ip": str(ip)}
    return {
        "handle": handle,
        "session": session,
        "last_activity": 0,
        "expires_in": 0,
        "problem": problem,
    }
