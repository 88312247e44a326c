"""The original's operations (create, get, set, kill, ...) as plans, shared by both classes."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import parse
from . import validation as check
from .cache import SessionCache
from .errors import KillInterrupted, StoreUnavailable
from .keys import Bucket, Keys
from .plans import Arg, Command, Key, Pipe, Plan, Run
from .scripts import script
from .tokens import new_token, new_tokens
from .types import Activity, DValue, Killed, NewSession, Session, Sessions, Token

KILLALL_BATCH = 1000  # sessions per killall script call: 5-8 ms of Redis time (README)
KILLSOID_BATCH = 1000  # sessions per killsoid script call
HMGET_CHUNK = 1000  # sessions read per pipelined round trip
# The most members a walk of the window reads from one bucket in one script call (about 4 ms
# of Redis time with their scores).
WALK_READ_MAX = 4096
# Round trips a page's walk may take before it reads every bucket down to the page instead:
# spread scores finish a page in one; equal scores, which run bucket after bucket, would take
# one or two per bucket.
WALK_PAGE_STEPS = 1
# From this offset on, a cluster page first counts the window, to walk from its far end when
# that is nearer (one more round trip, saved many times over deep in a big app).
FAR_PAGE_FROM = 1000
# Sessions per create.lua / touch.lua call of create_many / get_many: about 1 ms of Redis
# time each, so a batch never holds Redis long, while 1000 sessions take 10 calls, not 1000.
CREATE_CHUNK = 100
GET_CHUNK = 100
NewFields = tuple[str, str, int, str, str]  # id, ip, ttl, d as JSON, no_resave


@dataclass(slots=True)
class WalkState:
    """Where a walk of an app's window stands, per bucket: the ranks handed out, whether it
    has nothing left, and how many members it reads next."""

    taken: list[int]
    done: list[bool]
    sizes: list[int]
    base: int  # what a bucket reads when it neither leads nor lags

    @classmethod
    def start(cls, buckets: int, count: int, at_least: int = 32) -> WalkState:
        """At the window's end, for a walk handing out `count` at a time: each bucket first
        reads twice its share, and at least `at_least` (all of it on a standalone server)."""
        size = count if buckets == 1 else max(2 * count // buckets, at_least)
        return cls([0] * buckets, [False] * buckets, [size] * buckets, size)

    def copy(self) -> WalkState:
        return WalkState(list(self.taken), list(self.done), list(self.sizes), self.base)


class Operations:
    """The plans of redis-sessions 4.0.0's operations. Needs `keys` and `cache`."""

    keys: Keys
    cache: SessionCache | None
    _registered: MutableMapping[str, bool]
    _registering: threading.Lock

    def _channel(self) -> str:
        return self.keys.cache_channel

    def _touch_keys(self, app: str, token: str) -> list[Key]:
        b = self.keys.of_token(app, token)
        return [b.session(token), b.sessions, b.users, b.expiry]

    def _fan(self, calls: Sequence[Run | Command], write: bool = False) -> Plan[list[Any]]:
        """Replies of calls on different buckets: a lone script call as it is (an app on a
        standalone server is one bucket), more in one round trip; error replies raised."""
        if len(calls) == 1 and isinstance(calls[0], Run):
            return [(yield calls[0])]
        return parse.checked((yield Pipe(calls, write=write)))

    def _register(self, app: str) -> list[Run]:
        """On a cluster, where create.lua cannot reach the app registry (another slot): the
        call that registers `app` with the server's time, once a minute per process
        (REGISTERED_SECONDS); discovery never drops an app registered lately
        (drop_apps.lua)."""
        if not self.keys.cluster:
            return []
        with self._registering:  # a TTLCache changes itself on access: one thread at a time
            if app in self._registered:
                return []
            self._registered[app] = True
        return [Run(script("register_app"), [self.keys.apps_registry], [app], write=True)]

    def _forget(self, app: str, tokens: Sequence[str]) -> None:
        if self.cache is not None:
            for token in tokens:
                self.cache.drop(self.keys.cache_message(app, token))

    # -- create -------------------------------------------------------------------------------

    def _create(
        self,
        *,
        app: str,
        id: str,
        ip: str,
        ttl: int | None,
        d: Mapping[str, DValue] | None,
        no_resave: bool,
    ) -> Plan[Token]:
        app = check.app(app)
        fields = self._new_fields(id, ip, ttl, d, no_resave)
        token = new_token(self._token_head(app, fields[0]))
        register = self._register(app)
        if register:
            create = self._create_call(app, [token], [fields])
            parse.checked((yield Pipe([create, *register], write=True)))
        else:
            yield self._create_call(app, [token], [fields])
        return {"token": token}

    def _create_many(self, *, app: str, sessions: Iterable[NewSession]) -> Plan[list[Token]]:
        app = check.app(app)
        if isinstance(sessions, str | bytes | Mapping):
            raise TypeError("sessions must be an iterable of session dicts")
        sessions = list(sessions)  # a generator is read once
        if not all(type(s) is dict or isinstance(s, Mapping) for s in sessions):
            raise TypeError("sessions must be an iterable of session dicts")
        new = self._new_fields
        fields = [
            new(s.get("id"), s.get("ip"), s.get("ttl"), s.get("d"), s.get("no_resave", False))
            for s in sessions
        ]
        heads = [self._token_head(app, f[0]) for f in fields] if self.keys.cluster else None
        tokens = new_tokens(len(fields), heads)
        calls = [
            self._create_call(app, [tokens[i] for i in chunk], [fields[i] for i in chunk])
            for chunk in self._by_bucket(tokens, CREATE_CHUNK)
        ]
        if calls:
            parse.checked((yield Pipe([*calls, *self._register(app)], write=True)))
        return [{"token": token} for token in tokens]

    def _token_head(self, app: str, id: str) -> str:
        """What a new token of `id` starts with: on a cluster, its bucket."""
        return self.keys.token_head(self.keys.of_id(app, id)) if self.keys.cluster else ""

    @staticmethod
    def _new_fields(id: Any, ip: Any, ttl: Any, d: Any, no_resave: Any) -> NewFields:
        """A new session's create.lua arguments but its token, its input checked: id, ip,
        ttl, d as JSON text ('' for none) and no_resave ('1' or '')."""
        id = check.new_user_id(id)
        ip = check.ip(ip)
        ttl_s = check.ttl(ttl)
        d_text = ""
        if d is not None:
            kept = {key: value for key, value in check.d(d).items() if value is not None}
            d_text = check.d_text(kept) if kept else ""
        return id, ip, ttl_s, d_text, "1" if check.no_resave(no_resave) else ""

    def _create_call(self, app: str, tokens: Sequence[str], fields: Sequence[NewFields]) -> Run:
        """One create.lua call making the sessions `tokens` (all of one bucket) with `fields`
        (from `_new_fields`) in one atomic step."""
        k = self.keys
        b = k.of_token(app, tokens[0])
        keys: list[Key] = [b.sessions, b.users, b.expiry]
        if not k.cluster:
            keys.append(k.apps_registry)
        args: list[Arg] = [app, "" if k.cluster else "1"]
        prefix = b.prefix
        for token, new in zip(tokens, fields, strict=True):
            keys += (prefix + token, b.user_tokens(new[0]))
            args.append(token)
            args += new
        return Run(script("create"), keys, args, write=True)

    # -- get and set --------------------------------------------------------------------------

    def _by_bucket(self, tokens: Sequence[str], chunk: int) -> list[Sequence[int]]:
        """The indexes of `tokens` in chunks of at most `chunk`, each of one bucket; in order
        when an app is one bucket."""
        if not self.keys.cluster:
            n = len(tokens)
            return [range(start, min(start + chunk, n)) for start in range(0, n, chunk)]
        groups: dict[int, list[int]] = {}
        for i, token in enumerate(tokens):
            groups.setdefault(self.keys.of_token("", token).index, []).append(i)
        return [
            g[start : start + chunk] for g in groups.values() for start in range(0, len(g), chunk)
        ]

    def _touch_call(self, app: str, tokens: Sequence[str], args: Sequence[Arg] = ()) -> Run:
        """One touch.lua call: a get of `tokens` (of one bucket), or with `args` (changes) a
        set of one."""
        b = self.keys.of_token(app, tokens[0])
        prefix = b.prefix
        if len(tokens) == 1:  # a get or a set: no list comprehension (0.2 µs of a get)
            keys = [b.sessions, b.users, b.expiry, prefix + tokens[0]]
        else:
            keys = [b.sessions, b.users, b.expiry, *[prefix + token for token in tokens]]
        if args:
            head: list[Arg] = [app, "w", self._channel(), check.MAX_D_BYTES]
            return Run(script("touch"), keys, [*head, *tokens, *args], write=True)
        return Run(script("touch"), keys, [app, "r", "", check.MAX_D_BYTES, *tokens])

    def _get(self, *, app: str, token: str) -> Plan[Session | None]:
        app = check.app(app)
        token = check.token(token)
        cache = self.cache
        if cache is None:
            (reply,) = yield self._touch_call(app, [token])
            return parse.touched(reply)
        cache_key = self.keys.cache_message(app, token)
        cached = cache.get(cache_key)
        if cached is not None:
            return cached
        read_at = cache.tick()
        (reply,) = yield self._touch_call(app, [token])
        found = parse.touched(reply)
        if found is not None:
            cache.put(cache_key, found, read_at)
        return found

    def _get_many(self, *, app: str, tokens: Sequence[str]) -> Plan[list[Session | None]]:
        app = check.app(app)
        if isinstance(tokens, str | bytes):
            raise TypeError("tokens must be a sequence of tokens")
        tokens = [check.token(t) for t in tokens]
        results: list[Session | None] = [None] * len(tokens)
        missing: list[int] = []
        read_at = 0
        if self.cache is None:
            missing = list(range(len(tokens)))
        else:
            read_at = self.cache.tick()
            for i, token in enumerate(tokens):
                cached = self.cache.get(self.keys.cache_message(app, token))
                if cached is not None:
                    results[i] = cached
                else:
                    missing.append(i)
        if not missing:
            return results
        wanted = [tokens[i] for i in missing]
        chunks = self._by_bucket(wanted, GET_CHUNK)
        calls = [self._touch_call(app, [wanted[j] for j in chunk]) for chunk in chunks]
        replies = [reply for chunk in parse.checked((yield Pipe(calls))) for reply in chunk]
        order = [missing[j] for chunk in chunks for j in chunk]
        for i, reply in zip(order, replies, strict=True):
            found = parse.touched(reply)
            results[i] = found
            if found is not None and self.cache is not None:
                self.cache.put(self.keys.cache_message(app, tokens[i]), found, read_at)
        return results

    def _set(self, *, app: str, token: str, d: Mapping[str, DValue]) -> Plan[Session | None]:
        app = check.app(app)
        token = check.token(token)
        changes = check.d(d)
        args: list[Arg] = []
        size = 0
        for key, value in changes.items():
            raw_key, raw_value = check.encode_json(key), check.encode_json(value)
            size += len(raw_key) + len(raw_value)
            args += [key, raw_key, "" if value is None else raw_value]
        if size > check.MAX_D_BYTES // 4:
            check.d_text(changes)  # the changes alone must fit
        (reply,) = yield self._touch_call(app, [token], args)
        self._forget(app, [token])
        return parse.touched(reply)

    # -- kills --------------------------------------------------------------------------------

    def _kill(self, *, app: str, token: str) -> Plan[Killed]:
        return (yield from self._kill_token(check.app(app), check.token(token)))

    def _kill_token(self, app: str, token: str, id: str = "") -> Plan[Killed]:
        """`kill`; with the id an index names, also a session key of another type."""
        k = self.keys
        args = [token, app, k.of_token(app, token).user_tokens_prefix, self._channel(), k.wire(id)]
        killed = yield Run(script("kill"), self._touch_keys(app, token), args, write=True)
        self._forget(app, [token])
        return {"kill": int(killed)}

    def _killsoid(self, *, app: str, id: str) -> Plan[Killed]:
        app = check.app(app)
        id = check.user_id(id)
        k = self.keys
        b = k.of_id(app, id)
        keys = [b.user_tokens(id), b.sessions, b.users, b.expiry]
        together = "1" if k.cluster else ""
        args = [k.wire(id), app, b.prefix, self._channel(), KILLSOID_BATCH, together]
        total = yield from self._batched_kill([Run(script("killsoid"), keys, args, write=True)])
        if self.cache is not None:
            self.cache.clear()
        return {"kill": total}

    def _killall(self, *, app: str) -> Plan[Killed]:
        app = check.app(app)
        channel, together = self._channel(), "1" if self.keys.cluster else ""
        calls = [
            Run(
                script("killall_batch"),
                [b.sessions, b.users, b.expiry],
                [app, b.prefix, b.user_tokens_prefix, channel, KILLALL_BATCH, together],
                write=True,
            )
            for b in self.keys.buckets(app)
        ]
        total = yield from self._batched_kill(calls)
        if self.cache is not None:
            self.cache.clear()
        return {"kill": total}

    def _batched_kill(self, calls: Sequence[Run]) -> Plan[int]:
        """Run kill scripts (one per bucket) that answer `{killed, left}` until nothing is
        left, the buckets in parallel; a fault after the first batch is KillInterrupted with
        the count ended before it."""
        total = 0
        pending = list(calls)
        while pending:
            try:
                replies = yield from self._fan(pending, write=True)
            except StoreUnavailable as error:
                if not total:
                    raise
                raise KillInterrupted(
                    f"{error}; {total} sessions had been ended before the fault", killed=total
                ) from None
            total += sum(int(killed) for killed, _left in replies)
            pending = [call for call, (_, left) in zip(pending, replies, strict=True) if int(left)]
        return total

    # -- reads --------------------------------------------------------------------------------

    def _activity(self, *, app: str, delta_time: int) -> Plan[Activity]:
        app = check.app(app)
        delta = check.delta_time(delta_time)
        calls = [Run(script("count_since"), [b.users], [delta]) for b in self.keys.buckets(app)]
        # An id lives in one bucket: the buckets' counts add up to an exact count.
        return {"activity": sum(int(reply[1]) for reply in (yield from self._fan(calls)))}

    def _soapp(self, *, app: str, delta_time: int) -> Plan[Sessions]:
        app = check.app(app)
        delta = check.delta_time(delta_time)
        _, now, members = yield from self._window_members(app, delta, 0, -1)
        tokens = [Keys.split_token_member(m)[0] for m in members]
        return {"sessions": (yield from self._sessions_of(app, tokens, now))}

    def _soid(self, *, app: str, id: str) -> Plan[Sessions]:
        app = check.app(app)
        id = check.user_id(id)
        tokens, now = yield from self._user_tokens(app, id)
        return {"sessions": (yield from self._sessions_of(app, tokens, now))}

    def _ping(self) -> Plan[str]:
        parse.checked((yield Pipe([("PING",)])))
        return "PONG"

    # -- read helpers -------------------------------------------------------------------------

    def _window_members(
        self, app: str, delta: int, offset: int, limit: int, oldest_first: bool = False
    ) -> Plan[tuple[int, int, list[str]]]:
        """(total in the window, now, one page of its members, or with `limit` -1 all of
        them): one rank range on a standalone server. On a cluster a page is read from the
        nearer end of the window: a k-way walk of the buckets (`_walk`), which reads about as
        many members as lie between that end and the page, or, when that is most of the
        window or the walk finds equal scores running bucket after bucket, every bucket down
        to the page's depth merged (one round trip)."""
        buckets = self.keys.buckets(app)
        if len(buckets) == 1:
            args: list[Arg] = [delta, offset, limit, "asc" if oldest_first else "desc"]
            reply = yield Run(script("window"), [buckets[0].sessions], args)
            return int(reply[1]), int(reply[0]), list(reply[2:])
        if limit < 0:  # the whole window (soapp)
            total, now, every = yield from self._merged(buckets, delta, oldest_first, -1)
            return total, now, every[offset:]
        total, far = -1, False
        if offset >= FAR_PAGE_FROM:  # count first: the far end may be nearer
            sizes = yield from self._fan(
                [Run(script("window"), [b.sessions], [delta, 0, 0]) for b in buckets]
            )
            total = sum(int(reply[1]) for reply in sizes)
            if offset >= total:
                return total, max(int(reply[0]) for reply in sizes), []
            far = total - offset - limit < offset
        # From the far end: the `total - offset` members through the page's first, reversed;
        # the page starts after the members past it.
        need, start = (
            (total - offset, max(total - offset - limit, 0)) if far else (offset + limit, offset)
        )
        order = oldest_first != far
        members: list[str] | None = None
        if total < 0 or need * 4 < total:
            # Each bucket reads at least a page: the first page is one step, as before.
            state = WalkState.start(len(buckets), need, at_least=limit)
            picked, now, total = yield from self._walk(
                buckets, delta, order, need, state, steps=WALK_PAGE_STEPS
            )
            if len(picked) == need or all(state.done):
                members = [member for _, member in picked]
        if members is None:
            total, now, members = yield from self._merged(buckets, delta, order, need)
        page = members[start : start + limit]
        if far:
            page.reverse()
        return total, now, page

    def _merged(
        self, buckets: Sequence[Bucket], delta: int, oldest_first: bool, depth: int
    ) -> Plan[tuple[int, int, list[str]]]:
        """(total, now, the window's first `depth` members, or with -1 all of them): every
        bucket read down to `depth` and merged, one round trip (equal scores go by member,
        as a sorted set orders them)."""
        order = "asc" if oldest_first else "desc"
        calls = [
            Run(script("window"), [b.sessions], [delta, 0, depth, order, "scores"]) for b in buckets
        ]
        replies = yield from self._fan(calls)
        scored = [
            (float(score), member)
            for reply in replies
            for member, score in zip(reply[2::2], reply[3::2], strict=True)
        ]
        scored.sort(reverse=not oldest_first)
        members = [member for _, member in scored[: None if depth < 0 else depth]]
        return sum(int(r[1]) for r in replies), max(int(r[0]) for r in replies), members

    def _walk(
        self,
        buckets: Sequence[Bucket],
        delta: int,
        oldest_first: bool,
        count: int,
        state: WalkState,
        steps: int | None = None,
    ) -> Plan[tuple[list[tuple[float, str]], int, int]]:
        """The window's next `count` (score, member) pairs in order, newest or oldest first,
        from where `state` stands (updated in place): (pairs, now, the window's total as the
        first step counted it). With `steps`, at most that many round trips: fewer pairs
        may come back.

        Each bucket is read on from its own rank, a little more than its share at a time,
        and only what no unread member can precede is handed out (a k-way merge), so a walk
        of N members reads about N whatever the number of buckets. Equal scores go by
        member, as a sorted set orders them; since a token starts with its bucket, a run of
        equal scores comes bucket after bucket, so a bucket whose whole read was handed out
        leads the order: it reads 4 times as much next time (at least as much as the
        biggest read so far, at most WALK_READ_MAX), and one that handed out under a quarter
        of its read reads a quarter as much (not under the first read).
        """
        order = "asc" if oldest_first else "desc"
        taken, done, sizes = state.taken, state.done, state.sizes
        picked: list[tuple[float, str]] = []
        now, total = 0, -1
        while len(picked) < count and not all(done) and steps != 0:
            steps = None if steps is None else steps - 1
            live = [i for i, finished in enumerate(done) if not finished]
            window = script("window")
            calls = [
                Run(window, [buckets[i].sessions], [delta, taken[i], sizes[i], order, "scores"])
                for i in live
            ]
            replies = yield from self._fan(calls)
            if total < 0:
                total = sum(int(reply[1]) for reply in replies)
            fetched: dict[int, list[tuple[float, str]]] = {}
            for i, reply in zip(live, replies, strict=True):
                now = max(now, int(reply[0]))
                members = zip(reply[2::2], reply[3::2], strict=True)
                fetched[i] = [(float(score), str(member)) for member, score in members]
            # A bucket that read less than it asked for has nothing beyond. What the others
            # have not read comes after their last member read: only what comes before all
            # of those is handed out now.
            more = [i for i in live if len(fetched[i]) == sizes[i]]
            edges = [fetched[i][-1] for i in more]
            edge = (min(edges) if oldest_first else max(edges)) if edges else None
            merged = sorted(
                ((key, i) for i in live for key in fetched[i]), reverse=not oldest_first
            )
            handed = dict.fromkeys(live, 0)
            for key, i in merged:
                if len(picked) == count:
                    break
                if edge is not None and (key > edge if oldest_first else key < edge):
                    break
                picked.append(key)
                handed[i] += 1
            lead = max(sizes)
            for i in live:
                taken[i] += handed[i]
                done[i] = i not in more and handed[i] == len(fetched[i])
                if i in more and handed[i] == len(fetched[i]):  # it leads: read on further
                    sizes[i] = min(max(sizes[i] * 4, lead), WALK_READ_MAX)
                elif handed[i] * 4 < len(fetched[i]):  # it lags: most of its read comes again
                    sizes[i] = max(sizes[i] // 4, state.base)
        return picked, now, max(total, 0)

    def _user_tokens(self, app: str, id: str) -> Plan[tuple[list[str], int]]:
        key = self.keys.of_id(app, id).user_tokens(id)
        members, (seconds, _micro) = parse.checked((yield Pipe([("SMEMBERS", key), ("TIME",)])))
        return sorted(map(str, members)), int(seconds)

    def _hmget_many(
        self, app: str, tokens: Sequence[str], fields: Sequence[str]
    ) -> Plan[list[Any]]:
        """HMGET of `fields` of each token's session hash, pipelined HMGET_CHUNK at a time.

        A key of another type answers its error in place of its fields.
        """
        out: list[Any] = []
        for start in range(0, len(tokens), HMGET_CHUNK):
            chunk = tokens[start : start + HMGET_CHUNK]
            of = self.keys.of_token
            out += yield Pipe([("HMGET", of(app, t).session(t), *fields) for t in chunk])
        return out

    def _sessions_of(self, app: str, tokens: Sequence[str], now: int) -> Plan[list[Session]]:
        """Live sessions of the library's reads (soapp, soid); unreadable ones raise."""
        replies = parse.checked((yield from self._hmget_many(app, tokens, parse.FIELDS)))
        found = [parse.session(fields, now) for fields in replies]
        return [s for s in found if s is not None]
