"""`RedisSessions`: the redis-sessions 4.0.0 operations, atomic, on the original's data layout."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import resources
from typing import Any, TypeVar

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.commands.core import Script
from redis.exceptions import NoScriptError
from redis.retry import Retry

from . import validation as check
from .cache import SessionCache
from .errors import CorruptData, CorruptSession, KillInterrupted, StoreUnavailable, ValidationError
from .keys import SESSIONS_SUFFIX, USER_TOKENS_INFIX, USERS_SUFFIX, Keys
from .tokens import new_token
from .types import (
    Activity,
    AppStats,
    DValue,
    Killed,
    NewSession,
    Session,
    SessionPage,
    SessionRow,
    Sessions,
    Token,
    WipeReport,
)

T = TypeVar("T")

# Fields read for a session, in the order the original's HMGET uses.
FIELDS = ("id", "r", "w", "ttl", "d", "la", "ip", "no_resave")
ACTIVITY_WINDOWS = (60, 600, 3600, 86400)
BATCH = 250  # sessions per wipe script call: ~5 ms of Redis time each (bench/wipe.py)
KILLALL_BATCH = 1000  # sessions per killall script call: 5-8 ms of Redis time (README)
KILLSOID_BATCH = 1000  # sessions per killsoid script call
WIPE_BATCH_MAX = 5000  # wipe_batch.lua unpacks a batch; Lua's unpack stops near 8000
APP_SAMPLE = 200
_CONNECTION_FAULTS = (redis.ConnectionError, redis.TimeoutError, OSError)


def _load_script(client: redis.Redis, name: str, prelude: str) -> Script:
    source = resources.files(__package__).joinpath("lua", f"{name}.lua").read_text("utf-8")
    return client.register_script(prelude + "\n" + source)


def _ignore(_error: Exception) -> None:
    return None


def _results(pipe: Any) -> list[Any]:
    """`pipe.execute()`, raising the first error reply as the server worded it.

    redis-py's own raise prefixes "Command # n (<command and arguments>)", which would put
    session keys, so tokens, into exception messages and logs.
    """
    return _checked(pipe.execute(raise_on_error=False))


def _checked(replies: list[Any]) -> list[Any]:
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies


def _foreign(error: redis.ResponseError) -> Exception:
    """An error reply caused by another program's data, as CorruptData; others unchanged."""
    text = str(error)
    if text.startswith("WRONGTYPE"):
        return CorruptData("a key holds another type than the layout's (another program's data)")
    if text.startswith("CORRUPT "):
        return CorruptSession(text.removeprefix("CORRUPT ").split(" script: ")[0])
    if text.startswith("TOOBIG "):
        return check.too_large_d()
    return error


def _wipe_report(raw: Any) -> WipeReport | None:
    """A stored wipe report, or None when the key holds anything else."""
    if not isinstance(raw, str):
        return None
    try:
        report = json.loads(raw)
        if not isinstance(report, dict):
            return None
        per_app = report["per_app"]
        return {
            "started_at": float(report["started_at"]),
            "duration": float(report["duration"]),
            "removed": int(report["removed"]),
            "per_app": {str(app): int(n) for app, n in per_app.items()},
            "remaining": int(report["remaining"]),
            "foreign_keys": [str(key) for key in report.get("foreign_keys", [])][:100],
        }
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        return None


def _check_paging(offset: Any, limit: Any) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValidationError("invalidValue", "offset must be an integer >= 0")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise ValidationError("invalidValue", "limit must be an integer from 1 to 1000")


_INTEGER = re.compile(r"-?[0-9]{1,15}", re.ASCII)


def _int(value: Any, field: str) -> int:
    """An integer hash field (missing -> 0); anything else another program wrote is corrupt."""
    if value is None or value == "":
        return 0
    if isinstance(value, int):  # a script's own reply (set's new `w`)
        return value
    if not _INTEGER.fullmatch(value):
        raise CorruptSession(f"a session's {field} is not an integer")
    return int(value)


def _session(fields: Sequence[Any], now: int) -> Session | None:
    """Build the original's session object from HMGET fields; None when timed out.

    Raises CorruptSession when another program wrote fields this library cannot read.
    """
    id, r, w, ttl, d, la, ip, no_resave = fields[:8]
    if id is None:
        return None
    idle = now - _int(la, "la")
    session: Session = {
        "id": str(id),
        "r": _int(r, "r"),
        "w": _int(w, "w"),
        "ttl": _int(ttl, "ttl"),
        "idle": idle,
        "ip": "" if ip is None else str(ip),
    }
    if session["ttl"] < idle:
        return None
    if no_resave == "1":
        session["no_resave"] = True
        session["ttl"] -= idle
    if d:
        try:
            data = json.loads(d)
        except ValueError:  # not a ValueError to callers: that would pass for bad input
            raise CorruptSession("a session's d is not valid JSON") from None
        if not isinstance(data, dict):
            raise CorruptSession("a session's d is JSON but not an object")
        session["d"] = data
    return session


def _expires_in(session: Session) -> int:
    if session.get("no_resave"):
        return session["ttl"]
    return session["ttl"] - session["idle"]


class RedisSessions:
    """Sessions in Redis, wire-compatible with the Node.js redis-sessions 4.0.0.

    All arguments are keyword-only. Bad input raises `ValidationError` before Redis is
    touched; an unreachable Redis raises `StoreUnavailable`.
    """

    def __init__(
        self,
        *,
        url: str = "redis://127.0.0.1:6379/0",
        namespace: str = "rs",
        cachetime: float = 0,
        cachemax: int = 5000,
        handle_key: bytes | None = None,
        client: redis.Redis | None = None,
        read_retries: int = 3,
        socket_timeout: float = 5.0,
    ) -> None:
        if not namespace or not isinstance(namespace, str):
            raise ValueError("namespace must be a non-empty string")
        self.namespace = namespace
        self.keys = Keys(namespace)
        self._url = url
        self._socket_timeout = socket_timeout
        if client is not None and not client.get_encoder().decode_responses:
            raise ValueError("client must be created with decode_responses=True")
        # Writes are not retried by the client (a lost reply must not apply a write twice);
        # reads retry briefly through redis-py's own Retry.
        self.redis = client or self._new_client()
        self._read_retry = Retry(
            ExponentialBackoff(cap=0.5, base=0.05),
            read_retries,
            supported_errors=_CONNECTION_FAULTS,
        )
        self._handle_key = handle_key or secrets.token_bytes(32)
        self._own: Any = None  # see _eval_once
        self._own_pid = 0
        self._own_lock = threading.Lock()
        prelude = resources.files(__package__).joinpath("lua", "_remove_session.lua")
        prelude_text = prelude.read_text("utf-8")
        self._create = _load_script(self.redis, "create", prelude_text)
        self._touch = _load_script(self.redis, "touch", prelude_text)
        self._kill = _load_script(self.redis, "kill", prelude_text)
        self._killsoid = _load_script(self.redis, "killsoid", prelude_text)
        self._killall_batch = _load_script(self.redis, "killall_batch", prelude_text)
        self._wipe_batch = _load_script(self.redis, "wipe_batch", prelude_text)
        self._count_since = _load_script(self.redis, "count_since", prelude_text)
        self._window = _load_script(self.redis, "window", prelude_text)
        self._known_apps = _load_script(self.redis, "known_apps", prelude_text)
        self.cache: SessionCache | None = None
        if cachetime and cachetime > 0:
            self.cache = SessionCache(
                self._new_client if client is None else self._client_like_given,
                self.keys.cache_channel,
                ttl=cachetime,
                maxsize=cachemax if cachemax and cachemax > 0 else 5000,
            )

    def _new_client(self) -> redis.Redis:
        return redis.Redis.from_url(
            self._url,
            decode_responses=True,
            encoding_errors="surrogateescape",
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._socket_timeout,
            retry=Retry(NoBackoff(), 0),
        )

    def _client_like_given(self) -> redis.Redis:
        """For the cache listener: a client on the caller's pool (so on the caller's server,
        not on `url`); closing it leaves the caller's connections alone."""
        return redis.Redis(connection_pool=self.redis.connection_pool)

    # -- plumbing ---------------------------------------------------------------------------

    def _where(self) -> str:
        kwargs = self.redis.connection_pool.connection_kwargs
        if "path" in kwargs:
            return str(kwargs["path"])
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"

    def _read(self, do: Callable[[], T]) -> T:
        """Run a read, retrying connection faults with backoff."""
        try:
            return self._read_retry.call_with_retry(do, _ignore)
        except _CONNECTION_FAULTS as error:
            raise self._unavailable(error) from None
        except redis.ResponseError as error:
            raise _foreign(error) from None

    def _write(self, do: Callable[[], T]) -> T:
        try:
            return do()
        except _CONNECTION_FAULTS as error:
            raise self._unavailable(error) from None
        except redis.ResponseError as error:
            raise _foreign(error) from None

    def _unavailable(self, error: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"Redis is unreachable ({type(error).__name__}): {self._where()}")

    def _eval(
        self, script: Script, keys: Sequence[str | bytes], args: Sequence[str | bytes | int]
    ) -> Any:
        """Run a registered script: `script(keys=..., args=...)` without its per-call overhead.

        EVALSHA, and on NOSCRIPT (a restarted or flushed server) load the script and retry.
        """
        try:
            return self._eval_once(script.sha, keys, args)
        except NoScriptError:
            script.sha = self.redis.script_load(script.script)
            return self._eval_once(script.sha, keys, args)

    def _eval_once(
        self, sha: str, keys: Sequence[str | bytes], args: Sequence[str | bytes | int]
    ) -> Any:
        """EVALSHA on a connection this instance keeps checked out, when no other thread uses it.

        The pool's per-command bookkeeping (checkout and return under a lock, metrics, retry
        wrappers) is about a fifth of a get's latency. Other threads and clients without a plain
        connection pool (Redis Cluster) go through the pool as before; a forked child gets its
        own connection.
        """
        pool = getattr(self.redis, "connection_pool", None)
        if pool is None or not self._own_lock.acquire(blocking=False):
            return self.redis.execute_command(  # type: ignore[no-untyped-call]
                "EVALSHA", sha, len(keys), *keys, *args
            )
        try:
            if self._own is None or self._own_pid != os.getpid():
                # A connection inherited over fork belongs to the parent: never touch it.
                self._own, self._own_pid = pool.get_connection(), os.getpid()
            connection = self._own
            try:
                try:  # the pool's own check: data waiting means the server restarted or erred
                    if connection.can_read():
                        raise redis.ConnectionError("data waiting on an idle connection")
                except _CONNECTION_FAULTS:
                    connection.disconnect()
                    connection.connect()
                connection.send_command("EVALSHA", sha, len(keys), *keys, *args)
                return connection.read_response()
            except redis.ResponseError:
                raise  # an error reply was read whole: the connection stays usable
            except BaseException:
                connection.disconnect()  # never leave half a reply for the next call
                raise
        finally:
            self._own_lock.release()

    def _eval_many(
        self, script: Script, calls: Sequence[tuple[Sequence[str], Sequence[str | int]]]
    ) -> list[Any]:
        """Run a script once per `(keys, args)` in one pipelined round trip; replies in order.

        Plain EVALSHA in the pipeline: a `Script` in a pipeline costs an extra SCRIPT EXISTS
        round trip per batch. Calls answered NOSCRIPT did not run, so they are sent again
        once the script is loaded. Other error replies are raised after the batch, without
        the pipeline's "Command # n (<arguments>)" text, which would hold tokens.
        """
        replies: list[Any] = [None] * len(calls)
        pending: Sequence[int] = range(len(calls))
        for _attempt in range(2):
            pipe = self.redis.pipeline(transaction=False)
            for i in pending:
                keys, args = calls[i]
                pipe.execute_command(  # type: ignore[no-untyped-call]
                    "EVALSHA", script.sha, len(keys), *keys, *args
                )
            noscript: list[int] = []
            for i, reply in zip(pending, pipe.execute(raise_on_error=False), strict=True):
                replies[i] = reply
                if isinstance(reply, NoScriptError):
                    noscript.append(i)
            if not noscript:
                break
            script.sha = self.redis.script_load(script.script)
            pending = noscript
        return _checked(replies)

    def _channel(self) -> str:
        return self.keys.cache_channel

    def _touch_keys(self, app: str, token: str) -> list[str]:
        k = self.keys
        return [k.session(app, token), k.app_sessions(app), k.app_users(app), k.all_sessions]

    def _forget(self, app: str, tokens: Sequence[str]) -> None:
        if self.cache is not None:
            for token in tokens:
                self.cache.drop(self.keys.cache_message(app, token))

    # -- the original's operations ----------------------------------------------------------

    def create(
        self,
        *,
        app: str,
        id: str,
        ip: str,
        ttl: int | None = None,
        d: Mapping[str, DValue] | None = None,
        no_resave: bool = False,
    ) -> Token:
        """Create a session; returns `{"token": ...}`."""
        args = self._create_args(app=app, id=id, ip=ip, ttl=ttl, d=d, no_resave=no_resave)
        self._write(lambda: self._eval(self._create, *args))
        return {"token": str(args[1][0])}

    def create_many(self, *, app: str, sessions: Iterable[NewSession]) -> list[Token]:
        """Create many sessions in one pipelined round trip; all validated first."""
        check.app(app)
        if isinstance(sessions, str | bytes | Mapping):
            raise TypeError("sessions must be an iterable of session dicts")
        sessions = list(sessions)  # a generator is read once
        if not all(isinstance(s, Mapping) for s in sessions):
            raise TypeError("sessions must be an iterable of session dicts")
        prepared = [
            self._create_args(
                app=app,
                id=s.get("id"),
                ip=s.get("ip"),
                ttl=s.get("ttl"),
                d=s.get("d"),
                no_resave=s.get("no_resave", False),
            )
            for s in sessions
        ]

        if prepared:
            self._write(lambda: self._eval_many(self._create, prepared))
        return [{"token": str(args[0])} for _, args in prepared]

    def _create_args(
        self,
        *,
        app: str,
        id: str,
        ip: str,
        ttl: int | None,
        d: Mapping[str, DValue] | None,
        no_resave: bool,
    ) -> tuple[list[str], list[str | int]]:
        app = check.app(app)
        id = check.new_user_id(id)
        ip = check.ip(ip)
        ttl_s = check.ttl(ttl)
        data = {} if d is None else check.d(d)
        resave = check.no_resave(no_resave)
        kept = {key: value for key, value in data.items() if value is not None}
        token = new_token()
        k = self.keys
        keys = [
            k.session(app, token),
            k.app_sessions(app),
            k.app_users(app),
            k.all_sessions,
            k.user_tokens(app, id),
            k.apps_registry,
        ]
        d_text = check.d_text(kept) if kept else ""
        return keys, [token, id, ip, ttl_s, d_text, "1" if resave else "", app]

    def get(self, *, app: str, token: str) -> Session | None:
        """The session for a token (counting a read), or None when unknown or timed out."""
        app = check.app(app)
        token = check.token(token)
        cache_key = self.keys.cache_message(app, token)
        read_at = 0
        if self.cache is not None:
            cached = self.cache.get(cache_key)
            if cached is not None:
                return cached
            read_at = self.cache.tick()
        keys = self._touch_keys(app, token)
        reply = self._read(lambda: self._eval(self._touch, keys, (token, app, "r", "")))
        session = self._touch_reply(reply)
        if session is not None and self.cache is not None:
            self.cache.put(cache_key, session, read_at)
        return session

    def get_many(self, *, app: str, tokens: Sequence[str]) -> list[Session | None]:
        """`get` for many tokens in one pipelined round trip, in input order."""
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

        # The keys every call shares, built once per batch rather than once per token.
        k = self.keys
        shared = (k.app_sessions(app), k.app_users(app), k.all_sessions)
        prefix = k.app_prefix(app)
        calls = [((prefix + tokens[i], *shared), (tokens[i], app, "r", "")) for i in missing]
        replies = self._read(lambda: self._eval_many(self._touch, calls)) if missing else []
        for i, reply in zip(missing, replies, strict=True):
            session = self._touch_reply(reply)
            results[i] = session
            if session is not None and self.cache is not None:
                self.cache.put(self.keys.cache_message(app, tokens[i]), session, read_at)
        return results

    @staticmethod
    def _touch_reply(reply: Any) -> Session | None:
        if not reply:
            return None
        return _session(reply, int(reply[8]))

    def set(
        self, *, app: str, token: str, d: Mapping[str, DValue], no_resave: Any = None
    ) -> Session | None:
        """Merge `d` into a session's data (None deletes a key); returns the session or None.

        `no_resave` is accepted and ignored, as in the original: it is fixed at create.
        """
        app = check.app(app)
        token = check.token(token)
        changes = check.d(d)
        args: list[str | int] = [token, app, "w", self._channel(), check.MAX_D_BYTES]
        size = 0
        for key, value in changes.items():
            raw_key, raw_value = check.encode_json(key), check.encode_json(value)
            size += len(raw_key) + len(raw_value)
            args += [key, raw_key, "" if value is None else raw_value]
        if size > check.MAX_D_BYTES // 4:
            check.d_text(changes)  # the changes alone must fit
        reply = self._write(lambda: self._touch(keys=self._touch_keys(app, token), args=args))
        self._forget(app, [token])
        return self._touch_reply(reply)

    def kill(self, *, app: str, token: str) -> Killed:
        """End one session: `{"kill": 1}`, or `{"kill": 0}` when not found."""
        return self._kill_token(check.app(app), check.token(token))

    def _kill_token(self, app: str, token: str, id: str = "") -> Killed:
        """`kill`; with the id an index names, also a session key of another type."""
        k = self.keys
        killed = self._write(
            lambda: self._kill(
                keys=self._touch_keys(app, token),
                args=[token, app, k.user_tokens_prefix(app), self._channel(), k.wire(id)],
            )
        )
        self._forget(app, [token])
        return {"kill": int(killed)}

    def killsoid(self, *, app: str, id: str) -> Killed:
        """End every session of one id in an app (log a user out everywhere).

        In atomic batches of KILLSOID_BATCH, so an id with 100k sessions never holds Redis
        long. A Redis fault part-way raises `KillInterrupted` with the count ended before it.
        """
        app = check.app(app)
        id = check.user_id(id)
        k = self.keys
        keys = [k.wire(k.user_tokens(app, id)), k.app_sessions(app), k.app_users(app)]
        keys.append(k.all_sessions)
        args = [k.wire(id), app, k.app_prefix(app), self._channel(), KILLSOID_BATCH]
        total = self._batched_kill(self._killsoid, keys, args)
        if self.cache is not None:
            self.cache.clear()
        return {"kill": total}

    def killall(self, *, app: str) -> Killed:
        """End every session of an app, in bounded batches so Redis never stalls.

        A Redis fault part-way raises `KillInterrupted` with the count ended before it.
        """
        app = check.app(app)
        k = self.keys
        keys = [k.app_sessions(app), k.app_users(app), k.all_sessions]
        args: list[str | int] = [
            app,
            k.app_prefix(app),
            k.user_tokens_prefix(app),
            self._channel(),
            KILLALL_BATCH,
        ]
        total = self._batched_kill(self._killall_batch, keys, args)
        if self.cache is not None:
            self.cache.clear()
        return {"kill": total}

    def _batched_kill(
        self, script: Script, keys: Sequence[str | bytes], args: Sequence[str | bytes | int]
    ) -> int:
        """Run a kill script that answers `{killed, left}` until nothing is left."""
        total = 0
        while True:
            try:
                killed, left = self._write(lambda: self._eval(script, keys, args))
            except StoreUnavailable as error:
                if not total:
                    raise
                raise KillInterrupted(
                    f"{error}; {total} sessions had been ended before the fault", killed=total
                ) from None
            total += int(killed)
            if not int(left):
                return total

    def activity(self, *, app: str, delta_time: int) -> Activity:
        """Unique ids active within the last `delta_time` seconds."""
        app = check.app(app)
        delta = check.delta_time(delta_time)
        reply = self._read(lambda: self._count_since(keys=[self.keys.app_users(app)], args=[delta]))
        return {"activity": int(reply[1])}

    def soapp(self, *, app: str, delta_time: int) -> Sessions:
        """Sessions of an app active within the last `delta_time` seconds, newest first."""
        app = check.app(app)
        delta = check.delta_time(delta_time)
        _, now, members = self._window_members(app, delta, 0, -1)
        tokens = [Keys.split_token_member(m)[0] for m in members]
        return {"sessions": [s for _, s in self._sessions_by_token(app, tokens, now) if s]}

    def soid(self, *, app: str, id: str) -> Sessions:
        """All live sessions of one id in an app."""
        app = check.app(app)
        id = check.user_id(id)
        tokens, now = self._user_tokens(app, id)
        return {"sessions": [s for _, s in self._sessions_by_token(app, tokens, now) if s]}

    def ping(self) -> str:
        self._read(self.redis.ping)
        return "PONG"

    def close(self) -> None:
        """Stop the cache listener and close the connections."""
        if self.cache is not None:
            self.cache.close()
        with self._own_lock:
            if self._own is not None and self._own_pid == os.getpid():
                self.redis.connection_pool.release(self._own)
            self._own = None
        self.redis.close()

    def __enter__(self) -> RedisSessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- wipe ---------------------------------------------------------------------------------

    def wipe(self) -> int:
        """One wipe pass: remove every timed-out session; returns how many."""
        return self.wipe_pass()["removed"]

    def wipe_pass(
        self,
        *,
        batch: int = BATCH,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> WipeReport:
        """Remove timed-out sessions of every app in bounded, atomic batches.

        `progress(removed_so_far, backlog_at_start)` is called after each batch; when
        `should_stop()` turns true the pass ends after the current batch. Several wipers may
        run at once: each batch is atomic, so no session is removed or counted twice. The
        report is also stored for `last_wipe()`. `batch` is at most `WIPE_BATCH_MAX`.
        """
        if type(batch) is not int or not 1 <= batch <= WIPE_BATCH_MAX:
            raise ValueError(f"batch must be an integer from 1 to {WIPE_BATCH_MAX}")
        k = self.keys
        started = time.time()
        backlog = int(
            self._read(lambda: self.redis.zcount(k.all_sessions, "-inf", f"({int(started)}"))
        )
        args: list[str | int] = [
            batch,
            k.prefix,
            self._channel(),
            SESSIONS_SUFFIX,
            USERS_SUFFIX,
            USER_TOKENS_INFIX,
        ]
        removed = 0
        per_app: dict[str, int] = {}
        foreign: set[str] = set()
        while True:
            taken, counts, skipped = self._write(
                lambda: self._wipe_batch(keys=[k.all_sessions], args=args)
            )
            for app, n in zip(counts[::2], counts[1::2], strict=True):
                per_app[app] = per_app.get(app, 0) + int(n)
                removed += int(n)
            foreign.update(skipped)
            if progress is not None:
                progress(removed, backlog)
            if int(taken) < batch or (should_stop is not None and should_stop()):
                break
        if self.cache is not None and removed:
            self.cache.clear()
        remaining = int(self._read(lambda: self.redis.zcard(k.all_sessions)))
        report: WipeReport = {
            "started_at": started,
            "duration": time.time() - started,
            "removed": removed,
            "per_app": per_app,
            "remaining": remaining,
            "foreign_keys": sorted(foreign),
        }
        self._write(lambda: self.redis.set(k.wipe_report, json.dumps(report)))
        return report

    def last_wipe(self) -> WipeReport | None:
        """The report of the most recent wipe pass of any wiper, or None (also when the key
        holds something else than a report: another program's data)."""

        def run() -> Any:
            pipe = self.redis.pipeline(transaction=False)
            pipe.get(self.keys.wipe_report)
            return pipe.execute(raise_on_error=False)[0]

        return _wipe_report(self._read(run))

    # -- reads for the dashboard -------------------------------------------------------------

    def apps(self) -> list[str]:
        """Every app of the namespace, sorted: those created here, plus those seen in a sample.

        O(sample) per call. `discover_apps()` (run by the wipe loop) finds the rest.
        """
        k = self.keys
        found = self._read(
            lambda: self._known_apps(keys=[k.all_sessions, k.apps_registry], args=[APP_SAMPLE])
        )
        # The registry is ours, but any program can write to it.
        return sorted(app for app in found if check.APP_RE.fullmatch(app))

    def has_app(self, *, app: str) -> bool:
        """Whether an app is known: registered here, or holding sessions (a Node-only app).

        An app stays known after a killall until the wipe loop's discovery drops it.
        """
        app = check.app(app)
        k = self.keys

        def run() -> list[Any]:
            pipe = self.redis.pipeline(transaction=False)
            pipe.exists(k.app_sessions(app), k.app_users(app))
            pipe.sismember(k.apps_registry, app)
            return list(pipe.execute(raise_on_error=False))

        # An error reply (a registry key of another type, written by another program) is a no.
        return any(isinstance(reply, int) and reply > 0 for reply in self._read(run))

    def discover_apps(
        self, *, count: int = 1000, should_stop: Callable[[], bool] | None = None
    ) -> list[str]:
        """Walk the keyspace once (SCAN, in steps) to register every app; O(keys).

        For a background job such as the wipe loop, never for a request. Apps without
        sessions left are dropped from the registry. When `should_stop()` turns true the
        walk ends after the current step: the apps found so far are registered, none dropped.
        """
        k = self.keys
        pattern = k.app_sessions_pattern()
        found: set[str] = set()
        cursor = 0
        complete = True
        while True:
            cursor, names = self._read(
                lambda c=cursor: self.redis.scan(c, match=pattern, count=count, _type="zset")  # type: ignore[misc]
            )
            for name in map(str, names):
                app = name[len(k.prefix) : -len(SESSIONS_SUFFIX) - 1]
                if check.APP_RE.fullmatch(app):
                    found.add(app)
            if cursor == 0:
                break
            if should_stop is not None and should_stop():
                complete = False
                break
        registered = set(self._members(k.apps_registry)) if complete else found

        def update() -> None:
            pipe = self.redis.pipeline(transaction=False)
            if found:
                pipe.sadd(k.apps_registry, *found)
            gone = [app for app in registered - found]
            for app in gone:
                pipe.exists(k.app_sessions(app))
            replies = _results(pipe)
            dead = [
                app
                for app, exists in zip(gone, replies[1 if found else 0 :], strict=True)
                if not exists
            ]
            if dead:
                self.redis.srem(k.apps_registry, *dead)

        self._write(update)
        return sorted(found)

    def app_stats(
        self, *, apps: Sequence[str], windows: Sequence[int] = ACTIVITY_WINDOWS
    ) -> list[AppStats]:
        """Per app: sessions, users and unique users active in each window; one round trip."""
        apps = [check.app(a) for a in apps]
        windows = [check.delta_time(w) for w in windows]
        k = self.keys

        def run() -> list[Any]:
            pipe = self.redis.pipeline(transaction=False)
            for app in apps:
                pipe.zcard(k.app_sessions(app))
                self._count_since(keys=[k.app_users(app)], args=[*windows, 10**12], client=pipe)
            return list(pipe.execute(raise_on_error=False))

        replies = self._read(run) if apps else []
        stats: list[AppStats] = []
        for i, app in enumerate(apps):
            sessions, counts = replies[2 * i], replies[2 * i + 1]
            if isinstance(sessions, Exception) or isinstance(counts, Exception):
                # One app's index of another type must not hide the other apps' counts.
                problem = f"{k.app_sessions(app)} or {k.app_users(app)} is not a sorted set"
                zeros = dict.fromkeys(windows, 0)
                stats.append(
                    {"app": app, "sessions": 0, "users": 0, "active": zeros, "problem": problem}
                )
                continue
            stats.append(
                {
                    "app": app,
                    "sessions": int(sessions),
                    "users": int(counts[-1]),
                    "active": {w: int(c) for w, c in zip(windows, counts[1:-1], strict=True)},
                }
            )
        return stats

    def activity_histogram(self, *, app: str, bucket: int = 3600, buckets: int = 24) -> list[int]:
        """Users whose last activity falls in each bucket, newest bucket first."""
        app = check.app(app)
        bucket = check.delta_time(bucket)
        if isinstance(buckets, bool) or not isinstance(buckets, int) or not 1 <= buckets <= 1000:
            raise ValidationError("invalidValue", "buckets must be an integer from 1 to 1000")
        ends = [bucket * (i + 1) for i in range(buckets)]
        reply = self._read(lambda: self._count_since(keys=[self.keys.app_users(app)], args=ends))
        cumulative = [int(c) for c in reply[1:]]
        return [c - (cumulative[i - 1] if i else 0) for i, c in enumerate(cumulative)]

    def soapp_page(
        self, *, app: str, delta_time: int, offset: int = 0, limit: int = 50
    ) -> SessionPage:
        """One page of `soapp`, newest first, with handles instead of tokens."""
        app = check.app(app)
        delta = check.delta_time(delta_time)
        _check_paging(offset, limit)
        # Redis refuses offsets beyond a 64-bit integer; any offset past 2**53 is past the end.
        try:
            total, now, members = self._window_members(app, delta, min(offset, 2**53), limit)
        except CorruptData:
            problem = f"{self.keys.app_sessions(app)} is not a sorted set (another program's key)"
            return {"total": 0, "offset": offset, "limit": limit, "rows": [], "problem": problem}
        rows = self._rows(app, [Keys.split_token_member(m) for m in members], now)
        return {"total": total, "offset": offset, "limit": limit, "rows": rows}

    def user_sessions(self, *, app: str, id: str) -> list[SessionRow]:
        """`soid` with handles, newest activity first."""
        app = check.app(app)
        id = check.user_id(id)
        tokens, now = self._user_tokens(app, id)
        rows = self._rows(app, [(token, id) for token in tokens], now)
        rows.sort(key=lambda row: row["last_activity"], reverse=True)
        return rows

    def user_page(
        self,
        *,
        app: str,
        id: str,
        offset: int = 0,
        limit: int = 50,
        delta_time: int | None = None,
    ) -> SessionPage:
        """One page of `user_sessions`; with `delta_time`, only sessions active within it.

        A page reads its own sessions in full and only the last activity of the id's others,
        so an id with thousands of sessions costs little more than one with fifty.
        """
        app = check.app(app)
        id = check.user_id(id)
        within = None if delta_time is None else check.delta_time(delta_time)
        _check_paging(offset, limit)
        try:
            tokens, now = self._user_live_tokens(app, id, within)
        except CorruptData:
            problem = "this id's token set (us:{id}) is not a set (another program's key)"
            return {"total": 0, "offset": offset, "limit": limit, "rows": [], "problem": problem}
        rows = self._rows(app, [(token, id) for token in tokens[offset : offset + limit]], now)
        return {"total": len(tokens), "offset": offset, "limit": limit, "rows": rows}

    def handle(self, *, app: str, token: str) -> str:
        """A non-secret name for a session: an HMAC of its token, safe in HTML and URLs."""
        mac = hmac.new(self._handle_key, f"{app}:{token}".encode(), hashlib.sha256)
        return mac.hexdigest()[:24]

    def kill_by_handle(self, *, app: str, id: str, handle: str) -> Killed:
        """End the session of `id` whose handle is `handle`; `{"kill": 0}` when none is."""
        app = check.app(app)
        id = check.user_id(id)
        if not isinstance(handle, str) or not handle:
            return {"kill": 0}
        try:
            tokens = self._members(self.keys.wire(self.keys.user_tokens(app, id)))
        except CorruptData:
            return {"kill": 0}
        for token in tokens:
            if hmac.compare_digest(self.handle(app=app, token=token), handle):
                # The token comes from Redis, not from a caller: another program's odd
                # token is still ended (and so is a session key of another type).
                return self._kill_token(app, token, id)
        return {"kill": 0}

    # -- read helpers ---------------------------------------------------------------------------

    def _window_members(
        self, app: str, delta: int, offset: int, limit: int
    ) -> tuple[int, int, list[str]]:
        reply = self._read(
            lambda: self._window(keys=[self.keys.app_sessions(app)], args=[delta, offset, limit])
        )
        return int(reply[1]), int(reply[0]), list(reply[2:])

    def _members(self, key: str | bytes) -> list[str]:
        return [str(m) for m in self._read(lambda: self.redis.smembers(key))]

    def _user_tokens(self, app: str, id: str) -> tuple[list[str], int]:
        def run() -> list[Any]:
            pipe = self.redis.pipeline(transaction=False)
            pipe.smembers(self.keys.wire(self.keys.user_tokens(app, id)))
            pipe.time()
            return _results(pipe)

        members, (seconds, _micro) = self._read(run)
        return sorted(members), int(seconds)

    def _user_live_tokens(self, app: str, id: str, within: int | None) -> tuple[list[str], int]:
        """The id's live tokens, newest activity first (those active within `within` s).

        Sessions another program made unreadable cannot be judged: they come last.
        """
        tokens, now = self._user_tokens(app, id)
        activity: list[tuple[int, str]] = []
        for token, fields in zip(
            tokens, self._hmget_many(app, tokens, ("id", "ttl", "la")), strict=True
        ):
            if isinstance(fields, Exception):
                activity.append((-1, token))
                continue
            found, ttl, la = fields
            if found is None:
                continue
            try:
                last, alive_for = _int(la, "la"), _int(ttl, "ttl")
            except CorruptSession:
                activity.append((-1, token))
                continue
            idle = now - last
            if alive_for >= idle and (within is None or idle <= within):
                activity.append((last, token))
        activity.sort(reverse=True)
        return [token for _, token in activity], now

    def _hmget_many(self, app: str, tokens: Sequence[str], fields: Sequence[str]) -> list[Any]:
        """HMGET of `fields` of each token's session hash, pipelined 1000 at a time.

        A key of another type answers its error in place of its fields.
        """
        out: list[Any] = []
        for start in range(0, len(tokens), 1000):
            chunk = tokens[start : start + 1000]

            def run(chunk: Sequence[str] = chunk) -> list[Any]:
                pipe = self.redis.pipeline(transaction=False)
                for token in chunk:
                    pipe.hmget(self.keys.session(app, token), fields)
                return list(pipe.execute(raise_on_error=False))

            out += self._read(run)
        return out

    def _sessions_by_token(
        self, app: str, tokens: Sequence[str], now: int
    ) -> list[tuple[str, Session | None]]:
        """Sessions of the library's reads (soapp, soid): unreadable ones raise CorruptData."""
        replies = self._hmget_many(app, tokens, FIELDS)
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                raise _foreign(reply)
        return [(t, _session(f, now)) for t, f in zip(tokens, replies, strict=True)]

    def _rows(self, app: str, pairs: Sequence[tuple[str, str]], now: int) -> list[SessionRow]:
        """Dashboard rows of `(token, id)` pairs (the id as an index names it); timed-out
        sessions are left out, unreadable ones kept with a `problem` so they can be killed."""
        rows: list[SessionRow] = []
        tokens = [token for token, _ in pairs]
        for (token, id), fields in zip(pairs, self._hmget_many(app, tokens, FIELDS), strict=True):
            handle = self.handle(app=app, token=token)
            try:
                if isinstance(fields, redis.ResponseError):
                    raise _foreign(fields)
                session = _session(fields, now)
            except CorruptData as error:
                ip = fields[6] if isinstance(fields, list) and fields[6] is not None else ""
                stored_id = fields[0] if isinstance(fields, list) and fields[0] else id
                unreadable: Session = {
                    "id": str(stored_id),
                    "r": 0,
                    "w": 0,
                    "ttl": 0,
                    "idle": 0,
                    "ip": str(ip),
                }
                rows.append(
                    {
                        "handle": handle,
                        "session": unreadable,
                        "last_activity": 0,
                        "expires_in": 0,
                        "problem": str(error),
                    }
                )
                continue
            if session is not None:
                rows.append(
                    {
                        "handle": handle,
                        "session": session,
                        "last_activity": now - session["idle"],
                        "expires_in": _expires_in(session),
                    }
                )
        return rows
