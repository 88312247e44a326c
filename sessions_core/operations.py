"""The original's operations (create, get, set, kill, ...) as plans, shared by both classes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import parse
from . import validation as check
from .cache import SessionCache
from .errors import KillInterrupted, StoreUnavailable
from .keys import Keys
from .plans import Arg, Key, Pipe, Plan, Run
from .scripts import script
from .tokens import new_token
from .types import Activity, DValue, Killed, NewSession, Session, Sessions, Token

KILLALL_BATCH = 1000  # sessions per killall script call: 5-8 ms of Redis time (README)
KILLSOID_BATCH = 1000  # sessions per killsoid script call
HMGET_CHUNK = 1000  # sessions read per pipelined round trip
# Sessions per create.lua / touch.lua call of create_many / get_many: about 1 ms of Redis
# time each, so a batch never holds Redis long, while 1000 sessions take 10 calls, not 1000.
CREATE_CHUNK = 100
GET_CHUNK = 100
NewFields = tuple[str, str, str, int, str, str]  # token, id, ip, ttl, d as JSON, no_resave


class Operations:
    """The plans of redis-sessions 4.0.0's operations. Needs `keys` and `cache`."""

    keys: Keys
    cache: SessionCache | None

    def _channel(self) -> str:
        return self.keys.cache_channel

    def _touch_keys(self, app: str, token: str) -> list[Key]:
        k = self.keys
        return [k.session(app, token), k.app_sessions(app), k.app_users(app), k.all_sessions]

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
        new = self._new_session(app=app, id=id, ip=ip, ttl=ttl, d=d, no_resave=no_resave)
        yield self._create_call(app, [new])
        return {"token": new[0]}

    def _create_many(self, *, app: str, sessions: Iterable[NewSession]) -> Plan[list[Token]]:
        app = check.app(app)
        if isinstance(sessions, str | bytes | Mapping):
            raise TypeError("sessions must be an iterable of session dicts")
        sessions = list(sessions)  # a generator is read once
        if not all(isinstance(s, Mapping) for s in sessions):
            raise TypeError("sessions must be an iterable of session dicts")
        new = [
            self._new_session(
                app=app,
                id=s.get("id"),
                ip=s.get("ip"),
                ttl=s.get("ttl"),
                d=s.get("d"),
                no_resave=s.get("no_resave", False),
            )
            for s in sessions
        ]
        calls = [
            self._create_call(app, new[start : start + CREATE_CHUNK])
            for start in range(0, len(new), CREATE_CHUNK)
        ]
        if calls:
            parse.checked((yield Pipe(calls, write=True)))
        return [{"token": fields[0]} for fields in new]

    def _new_session(
        self,
        *,
        app: str,
        id: str,
        ip: str,
        ttl: int | None,
        d: Mapping[str, DValue] | None,
        no_resave: bool,
    ) -> NewFields:
        """A new session's create.lua arguments, its input checked: token, id, ip, ttl, d
        as JSON text and no_resave."""
        id = check.new_user_id(id)
        ip = check.ip(ip)
        ttl_s = check.ttl(ttl)
        data = {} if d is None else check.d(d)
        resave = check.no_resave(no_resave)
        kept = {key: value for key, value in data.items() if value is not None}
        d_text = check.d_text(kept) if kept else ""
        return new_token(), id, ip, ttl_s, d_text, "1" if resave else ""

    def _create_call(
        self, app: str, sessions: Sequence[tuple[str, str, str, int, str, str]]
    ) -> Run:
        """One create.lua call making `sessions` (from `_new_session`) in one atomic step."""
        k = self.keys
        keys: list[Key] = [k.app_sessions(app), k.app_users(app), k.all_sessions, k.apps_registry]
        args: list[Arg] = [app]
        for fields in sessions:
            token, id = fields[0], fields[1]
            keys += [k.session(app, token), k.user_tokens(app, id)]
            args += fields
        return Run(script("create"), keys, args, write=True)

    # -- get and set --------------------------------------------------------------------------

    def _touch_call(self, app: str, tokens: Sequence[str], args: Sequence[Arg] = ()) -> Run:
        """One touch.lua call: a get of `tokens`, or with `args` (changes) a set of one."""
        k = self.keys
        prefix = k.app_prefix(app)
        keys = [k.app_sessions(app), k.app_users(app), k.all_sessions]
        keys += [prefix + token for token in tokens]
        if args:
            head: list[Arg] = [app, "w", self._channel(), check.MAX_D_BYTES]
            return Run(script("touch"), keys, [*head, *tokens, *args], write=True)
        return Run(script("touch"), keys, [app, "r", "", check.MAX_D_BYTES, *tokens])

    def _get(self, *, app: str, token: str) -> Plan[Session | None]:
        app = check.app(app)
        token = check.token(token)
        cache_key = self.keys.cache_message(app, token)
        read_at = 0
        if self.cache is not None:
            cached = self.cache.get(cache_key)
            if cached is not None:
                return cached
            read_at = self.cache.tick()
        (reply,) = yield self._touch_call(app, [token])
        found = parse.touched(reply)
        if found is not None and self.cache is not None:
            self.cache.put(cache_key, found, read_at)
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
        calls = [
            self._touch_call(app, wanted[start : start + GET_CHUNK])
            for start in range(0, len(wanted), GET_CHUNK)
        ]
        replies = [reply for chunk in parse.checked((yield Pipe(calls))) for reply in chunk]
        for i, reply in zip(missing, replies, strict=True):
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
        args = [token, app, k.user_tokens_prefix(app), self._channel(), k.wire(id)]
        killed = yield Run(script("kill"), self._touch_keys(app, token), args, write=True)
        self._forget(app, [token])
        return {"kill": int(killed)}

    def _killsoid(self, *, app: str, id: str) -> Plan[Killed]:
        app = check.app(app)
        id = check.user_id(id)
        k = self.keys
        keys = [k.wire(k.user_tokens(app, id)), k.app_sessions(app), k.app_users(app)]
        keys.append(k.all_sessions)
        args = [k.wire(id), app, k.app_prefix(app), self._channel(), KILLSOID_BATCH]
        total = yield from self._batched_kill(Run(script("killsoid"), keys, args, write=True))
        if self.cache is not None:
            self.cache.clear()
        return {"kill": total}

    def _killall(self, *, app: str) -> Plan[Killed]:
        app = check.app(app)
        k = self.keys
        keys = [k.app_sessions(app), k.app_users(app), k.all_sessions]
        args: list[Arg] = [
            app,
            k.app_prefix(app),
            k.user_tokens_prefix(app),
            self._channel(),
            KILLALL_BATCH,
        ]
        total = yield from self._batched_kill(Run(script("killall_batch"), keys, args, write=True))
        if self.cache is not None:
            self.cache.clear()
        return {"kill": total}

    def _batched_kill(self, call: Run) -> Plan[int]:
        """Run a kill script that answers `{killed, left}` until nothing is left; a fault
        after the first batch is KillInterrupted with the count ended before it."""
        total = 0
        while True:
            try:
                killed, left = yield call
            except StoreUnavailable as error:
                if not total:
                    raise
                raise KillInterrupted(
                    f"{error}; {total} sessions had been ended before the fault", killed=total
                ) from None
            total += int(killed)
            if not int(left):
                return total

    # -- reads --------------------------------------------------------------------------------

    def _activity(self, *, app: str, delta_time: int) -> Plan[Activity]:
        app = check.app(app)
        delta = check.delta_time(delta_time)
        reply = yield Run(script("count_since"), [self.keys.app_users(app)], [delta])
        return {"activity": int(reply[1])}

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
        args: list[Arg] = [delta, offset, limit, "asc" if oldest_first else "desc"]
        reply = yield Run(script("window"), [self.keys.app_sessions(app)], args)
        return int(reply[1]), int(reply[0]), list(reply[2:])

    def _user_tokens(self, app: str, id: str) -> Plan[tuple[list[str], int]]:
        key = self.keys.wire(self.keys.user_tokens(app, id))
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
            out += yield Pipe([("HMGET", self.keys.session(app, t), *fields) for t in chunk])
        return out

    def _sessions_of(self, app: str, tokens: Sequence[str], now: int) -> Plan[list[Session]]:
        """Live sessions of the library's reads (soapp, soid); unreadable ones raise."""
        replies = parse.checked((yield from self._hmget_many(app, tokens, parse.FIELDS)))
        found = [parse.session(fields, now) for fields in replies]
        return [s for s in found if s is not None]
