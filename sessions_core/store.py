"""`RedisSessions`: the redis-sessions 4.0.0 operations, atomic, on the original's data layout,
run on redis-py. The operations themselves are plans (`operations.py`, `wipe.py`, `reads.py`)
shared with `AsyncRedisSessions`; this module only runs them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import redis
import redis.cluster
from redis.backoff import ExponentialBackoff
from redis.exceptions import NoScriptError
from redis.retry import Retry

from . import connect, parse, routing
from .base import CONNECTION_FAULTS, SessionsBase
from .demo import Backdate
from .operations import KILLALL_BATCH, KILLSOID_BATCH
from .plans import Command, Every, Pipe, Plan, Request, Run
from .reads import ACTIVITY_WINDOWS, WindowCursor
from .types import (
    Activity,
    AppSessionPage,
    AppStats,
    DValue,
    Killed,
    NewSession,
    ServerInfo,
    Session,
    SessionPage,
    SessionRow,
    Sessions,
    Token,
    WipeReport,
)
from .wipe import BATCH, WIPE_BATCH_MAX
from .wire import KeptConnections

__all__ = ["BATCH", "KILLALL_BATCH", "KILLSOID_BATCH", "WIPE_BATCH_MAX", "RedisSessions"]

T = TypeVar("T")


def _ignore(_error: Exception) -> None:
    return None


class RedisSessions(SessionsBase):
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
        client: redis.Redis | redis.cluster.RedisCluster | None = None,
        read_retries: int = 3,
        socket_timeout: float = 5.0,
        buckets: int | None = None,
    ) -> None:
        super().__init__(namespace=namespace, handle_key=handle_key, buckets=buckets)
        self._url = url
        self._socket_timeout = socket_timeout
        if client is not None and not client.get_encoder().decode_responses:
            raise ValueError("client must be created with decode_responses=True")
        # Writes are not retried by the client (a lost reply must not apply a write twice);
        # reads retry briefly through redis-py's own Retry.
        self._own_client = client is None
        self.redis: Any = client or self._new_client()
        # Whether the server is a cluster is asked at the first request (a URL of any node).
        # Kept, not asked per call: isinstance against RedisCluster (a typing Protocol's
        # metaclass) costs 0.35 µs.
        self._on_cluster = isinstance(client, redis.cluster.RedisCluster)
        self._layout_pending = self._own_client or self._on_cluster
        self._layout_lock = threading.Lock()
        self._stale_slots = False
        self._fan_out: ThreadPoolExecutor | None = None
        self._read_retry = Retry(
            ExponentialBackoff(cap=0.5, base=0.05), read_retries, supported_errors=CONNECTION_FAULTS
        )
        self._wire = KeptConnections()
        self._start_cache(
            self._new_client if client is None else self._client_like_given,
            cachetime=cachetime,
            cachemax=cachemax,
            wait=socket_timeout,
        )

    def _new_client(self) -> redis.Redis:
        return connect.sync_client(self._url, socket_timeout=self._socket_timeout)

    def _client_like_given(self) -> redis.Redis:
        """For the cache listener: a client on the caller's pool (so on the caller's server,
        not on `url`); closing it leaves the caller's connections alone. On a cluster, a node
        (a PUBLISH reaches the subscribers of every node)."""
        if self._on_cluster:
            node = self.redis.get_default_node()
            return redis.Redis(connection_pool=node.redis_connection.connection_pool)
        return redis.Redis(connection_pool=self.redis.connection_pool)

    def _settle_layout(self) -> None:
        """At the first request: on a cluster, switch to a cluster client and the cluster
        layout, its bucket count read from (or first written to) Redis."""
        with self._layout_lock:
            if not self._layout_pending:
                return
            if self._own_client and not self._on_cluster:
                if not connect.is_cluster_url(self._url) or not self._probe_cluster():
                    self._layout_pending = False
                    return
                standalone = self.redis
                self.redis = connect.sync_cluster(self._url, socket_timeout=self._socket_timeout)
                self._on_cluster = True
                standalone.close()
            self.keys = self._run_plan(self._cluster_layout())
            self._layout_pending = False

    def _probe_cluster(self) -> bool:
        try:
            info = self._read_retry.call_with_retry(lambda: self.redis.info("cluster"), _ignore)
            return connect.cluster_enabled(info)
        except CONNECTION_FAULTS as error:
            raise self._unavailable(error) from None

    # -- the driver -----------------------------------------------------------------------------

    def _run(self, plan: Plan[T]) -> T:
        """Run a plan: each request it yields is executed and its reply sent back."""
        if self._layout_pending:
            self._settle_layout()
        return self._run_plan(plan)

    def _run_plan(self, plan: Plan[T]) -> T:
        try:
            request = next(plan)
            while True:
                try:
                    reply = self._execute(request)
                except Exception as error:  # the plan may handle it (a batched kill does)
                    request = plan.throw(error)
                else:
                    request = plan.send(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def _execute(self, request: Request) -> Any:
        if isinstance(request, Run):
            attempt: Callable[[], Any] = lambda: self._eval(request)  # noqa: E731
        elif isinstance(request, Every):
            attempt = lambda: self._every(request)  # noqa: E731
        else:
            attempt = lambda: self._pipe(request)  # noqa: E731
        try:
            if request.write:
                return attempt()
            return self._read_retry.call_with_retry(attempt, _ignore)
        except CONNECTION_FAULTS as error:
            raise self._unavailable(error) from None
        except redis.ResponseError as error:
            raise parse.foreign(error) from None

    def _eval(self, run: Run) -> Any:
        """One script call's reply; an error reply raised."""
        if self._on_cluster:
            reply = self._cluster_one(run)
        else:
            reply = self._on(self.redis, [run], run.write)[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _pipe(self, request: Pipe) -> list[Any]:
        if self._on_cluster:
            return self._cluster(request.items, request.write)
        return self._on(self.redis, request.items, request.write)

    def _every(self, request: Every) -> list[Any]:
        """The command's reply from the server, or from each master of a cluster."""
        if not self._on_cluster:
            return parse.checked(self._on(self.redis, [request.command], request.write))
        if self._stale_slots:
            self.redis.nodes_manager.initialize()
            self._stale_slots = False
        try:
            return [
                parse.checked(self._on(node.redis_connection, [request.command], request.write))[0]
                for node in self.redis.get_primaries()
            ]
        except CONNECTION_FAULTS:
            self._stale_slots = True  # a master is gone: ask for the slot map next time
            raise

    def _cluster_one(self, run: Run) -> Any:
        """One script call on a cluster: straight to the node of its slot; through `_cluster`
        (slot map refreshed, sent again) only when that node redirects it."""
        cluster = self.redis
        if self._stale_slots or not run.keys:
            return self._cluster([run], run.write)[0]
        node = cluster.nodes_manager.get_node_from_slot(cluster.keyslot(run.keys[0]))
        try:
            (reply,) = self._on(node.redis_connection, [run], run.write)
        except (*CONNECTION_FAULTS, *routing.BUSY):
            self._stale_slots = True  # a node is gone: ask for the slot map next time
            raise
        if isinstance(reply, (*routing.REDIRECTS, *routing.BUSY)):
            return self._cluster([run], run.write)[0]  # it did not run
        return reply

    def _cluster(self, items: Sequence[Run | Command], write: bool) -> list[Any]:
        """The items on a cluster: one pipeline per node, the nodes at once (routing.py)."""
        cluster = self.redis
        if self._stale_slots:
            cluster.nodes_manager.initialize()
            self._stale_slots = False

        def node_of(key: Any) -> Any:
            return cluster.nodes_manager.get_node_from_slot(cluster.keyslot(key))

        def on_node(group: tuple[Any, list[int]]) -> list[Any]:
            node, indexes = group
            return self._on(node.redis_connection, [items[i] for i in indexes], write)

        def run(groups: routing.Groups) -> list[list[Any]]:
            if len(groups) == 1:
                return [on_node(groups[0])]
            if self._fan_out is None:
                self._fan_out = ThreadPoolExecutor(8, thread_name_prefix="rs-cluster")
            return list(self._fan_out.map(on_node, groups))

        steps = routing.exchange(items, node_of, cluster.get_default_node)
        try:
            step = next(steps)
            while True:
                if step is routing.REFRESH:
                    cluster.nodes_manager.initialize()
                    step = steps.send([])
                else:
                    step = steps.send(run(step))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        except (*CONNECTION_FAULTS, *routing.BUSY):
            self._stale_slots = True  # a node is gone: ask for the slot map next time
            raise

    def _on(self, client: redis.Redis, items: Sequence[Run | Command], write: bool) -> list[Any]:
        """Every item in one round trip to `client`'s server (wire.py); replies in order,
        error replies in place. Script calls answered NOSCRIPT (a restarted or flushed
        server) did not run: they are sent again once loaded."""
        replies = self._wire.exchange(client, list(map(routing.command, items)), write=write)
        for reply in replies:
            if isinstance(reply, NoScriptError):
                break
        else:
            return replies
        noscript = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        for source in {items[i].script.source for i in noscript}:  # type: ignore[union-attr]
            client.script_load(source)
        commands = [routing.command(items[i]) for i in noscript]
        again = self._wire.exchange(client, commands, write=write)
        for i, reply in zip(noscript, again, strict=True):
            replies[i] = reply
        return replies

    # -- the original's operations --------------------------------------------------------------

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
        return self._run(self._create(app=app, id=id, ip=ip, ttl=ttl, d=d, no_resave=no_resave))

    def create_many(self, *, app: str, sessions: Iterable[NewSession]) -> list[Token]:
        """Create many sessions in one pipelined round trip; all validated first."""
        return self._run(self._create_many(app=app, sessions=sessions))

    def get(self, *, app: str, token: str) -> Session | None:
        """The session for a token (counting a read), or None when unknown or timed out."""
        return self._run(self._get(app=app, token=token))

    def get_many(self, *, app: str, tokens: Sequence[str]) -> list[Session | None]:
        """`get` for many tokens in one pipelined round trip, in input order."""
        return self._run(self._get_many(app=app, tokens=tokens))

    def set(
        self, *, app: str, token: str, d: Mapping[str, DValue], no_resave: Any = None
    ) -> Session | None:
        """Merge `d` into a session's data (None deletes a key); returns the session or None.

        `no_resave` is accepted and ignored, as in the original: it is fixed at create.
        """
        return self._run(self._set(app=app, token=token, d=d))

    def kill(self, *, app: str, token: str) -> Killed:
        """End one session: `{"kill": 1}`, or `{"kill": 0}` when not found."""
        return self._run(self._kill(app=app, token=token))

    def killsoid(self, *, app: str, id: str) -> Killed:
        """End every session of one id in an app (log a user out everywhere), in atomic
        batches; a Redis fault part-way raises `KillInterrupted` with the count ended."""
        return self._run(self._killsoid(app=app, id=id))

    def killall(self, *, app: str) -> Killed:
        """End every session of an app, in atomic batches so Redis never stalls; a Redis fault
        part-way raises `KillInterrupted` with the count ended."""
        return self._run(self._killall(app=app))

    def activity(self, *, app: str, delta_time: int) -> Activity:
        """Unique ids active within the last `delta_time` seconds."""
        return self._run(self._activity(app=app, delta_time=delta_time))

    def soapp(self, *, app: str, delta_time: int) -> Sessions:
        """Sessions of an app active within the last `delta_time` seconds, newest first."""
        return self._run(self._soapp(app=app, delta_time=delta_time))

    def soid(self, *, app: str, id: str) -> Sessions:
        """All live sessions of one id in an app."""
        return self._run(self._soid(app=app, id=id))

    def ping(self) -> str:
        return self._run(self._ping())

    def close(self) -> None:
        """Stop the cache listener and close the connections."""
        if self.cache is not None:
            self.cache.close()
        self._wire.close()
        if self._fan_out is not None:
            self._fan_out.shutdown()
        self.redis.close()

    def __enter__(self) -> RedisSessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the wipe -------------------------------------------------------------------------------

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
        return self._run(self._wipe_pass(batch=batch, progress=progress, should_stop=should_stop))

    def last_wipe(self) -> WipeReport | None:
        """The report of the most recent wipe pass of any wiper, or None (also when the key
        holds something else than a report: another program's data)."""
        return self._run(self._last_wipe())

    def discover_apps(
        self, *, count: int = 1000, should_stop: Callable[[], bool] | None = None
    ) -> list[str]:
        """Walk the keyspace once (SCAN, in steps) to register every app; O(keys).

        For a background job such as the wipe loop, never for a request. Apps without
        sessions left are dropped from the registry. When `should_stop()` turns true the
        walk ends after the current step: the apps found so far are registered, none dropped.
        """
        return self._run(self._discover_apps(count=count, should_stop=should_stop))

    # -- the dashboard's reads ------------------------------------------------------------------

    def apps(self) -> list[str]:
        """Every app of the namespace, sorted: those created here, plus those seen in a sample.

        O(sample) per call. `discover_apps()` (run by the wipe loop) finds the rest.
        """
        return self._run(self._apps())

    def has_app(self, *, app: str) -> bool:
        """Whether an app is known: registered here, or holding sessions (a Node-only app).

        An app stays known after a killall until the wipe loop's discovery drops it.
        """
        return self._run(self._has_app(app=app))

    def app_stats(
        self, *, apps: Sequence[str], windows: Sequence[int] = ACTIVITY_WINDOWS
    ) -> list[AppStats]:
        """Per app: sessions, users and unique users active in each window; one round trip."""
        return self._run(self._app_stats(apps=apps, windows=windows))

    def activity_histogram(self, *, app: str, bucket: int = 3600, buckets: int = 24) -> list[int]:
        """Users whose last activity falls in each bucket, newest bucket first."""
        return self._run(self._activity_histogram(app=app, bucket=bucket, buckets=buckets))

    def soapp_page(
        self,
        *,
        app: str,
        delta_time: int,
        offset: int = 0,
        limit: int = 50,
        oldest_first: bool = False,
    ) -> SessionPage:
        """One page of `soapp`, newest first (or oldest), with handles instead of tokens."""
        return self._run(
            self._soapp_page(
                app=app,
                delta_time=delta_time,
                offset=offset,
                limit=limit,
                oldest_first=oldest_first,
            )
        )

    def soapp_chunks(
        self, *, app: str, delta_time: int, chunk: int = 1000, oldest_first: bool = False
    ) -> Iterator[list[SessionRow]]:
        """The whole window of `soapp` as rows with handles, `chunk` at a time, newest first
        (or oldest): for exports. Reads about as many members as it returns, on a cluster
        too (a k-way walk of the buckets), where a page in the middle of a big app reads
        about the whole window."""
        cursor: WindowCursor | None = None
        while True:
            step = self._window_step(
                app=app,
                delta_time=delta_time,
                oldest_first=oldest_first,
                chunk=chunk,
                cursor=cursor,
            )
            rows, cursor = self._run(step)
            if rows:
                yield rows
            if cursor is None:
                return

    def user_sessions(self, *, app: str, id: str) -> list[SessionRow]:
        """`soid` with handles, newest activity first."""
        return self._run(self._user_sessions(app=app, id=id))

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
        return self._run(
            self._user_page(app=app, id=id, offset=offset, limit=limit, delta_time=delta_time)
        )

    def prefix_page(
        self, *, app: str, prefix: str, delta_time: int, limit: int = 50, budget: int = 200_000
    ) -> SessionPage:
        """Sessions (active within `delta_time`) of ids starting with `prefix`, newest first,
        from a walk of at most `budget` ids; `complete` says whether the walk reached the end."""
        return self._run(
            self._prefix_page(
                app=app, prefix=prefix, delta_time=delta_time, limit=limit, budget=budget
            )
        )

    def ip_page(
        self,
        *,
        app: str,
        ip: str,
        prefix: bool = False,
        delta_time: int,
        limit: int = 50,
        budget: int = 200_000,
    ) -> SessionPage:
        """Sessions active within `delta_time` whose ip is `ip` (or, with `prefix`, starts with
        it), newest first, from a walk of at most `budget` sessions; `complete` says whether
        the walk reached the window's end."""
        plan = self._ip_page(
            app=app, ip=ip, prefix=prefix, delta_time=delta_time, limit=limit, budget=budget
        )
        return self._run(plan)

    def server_info(self) -> ServerInfo:
        """The server's version, memory used, clients and ops/s (INFO), for the dashboard."""
        return self._run(self._server_info())

    def user_everywhere(self, *, id: str, limit: int = 50) -> list[AppSessionPage]:
        """The id's live sessions in every app that has any, newest first, `limit` per app;
        O(apps + the id's sessions)."""
        return self._run(self._user_everywhere(id=id, limit=limit))

    def killsoid_everywhere(self, *, id: str) -> dict[str, int]:
        """Log an id out of every app: killsoid in each app holding it; returns what each
        ended. A Redis fault part-way raises `KillInterrupted` (`.per_app`: the apps done)."""
        return self._run(self._killsoid_everywhere(id=id))

    def kill_by_handle(self, *, app: str, id: str, handle: str) -> Killed:
        """End the session of `id` whose handle is `handle`; `{"kill": 0}` when none is."""
        return self._run(self._kill_by_handle(app=app, id=id, handle=handle))

    def backdate_many(self, *, app: str, sessions: Sequence[Backdate]) -> int:
        """Demo data only: move sessions' last activity `idle` s back, every index kept."""
        return self._run(self._backdate_many(app=app, sessions=sessions))
