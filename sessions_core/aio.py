"""`AsyncRedisSessions`: every operation of `RedisSessions`, on redis.asyncio, for ASGI apps
(Django async views, FastAPI, Starlette). Same arguments, results, errors and cache: both
classes run the same plans (`operations.py`, `wipe.py`, `reads.py`); only the I/O differs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import redis
import redis.asyncio
import redis.asyncio.cluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import NoScriptError

from . import connect, parse, routing
from .autopipe import AutoPipeline
from .base import CONNECTION_FAULTS, SessionsBase
from .demo import Backdate
from .plans import Command, Every, Pipe, Plan, Request, Run
from .reads import ACTIVITY_WINDOWS, WindowCursor
from .scripts import LuaScript
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
from .wipe import BATCH

T = TypeVar("T")
# What a sync client for the cache listener needs of an async client's connection settings.
_SYNC_KWARGS = frozenset({"host", "port", "db", "username", "password", "path"})


async def _ignore(_error: Exception) -> None:
    return None


class AsyncRedisSessions(SessionsBase):
    """Sessions in Redis on redis.asyncio; `await` every operation.

    Use `async with AsyncRedisSessions(...) as rs:` or `await rs.aclose()`. The cache listener
    (with `cachetime`) runs in a thread of its own with a sync client, as in `RedisSessions`;
    the constructor waits for its subscription, so build the instance at start-up.
    """

    def __init__(
        self,
        *,
        url: str = "redis://127.0.0.1:6379/0",
        namespace: str = "rs",
        cachetime: float = 0,
        cachemax: int = 5000,
        handle_key: bytes | None = None,
        client: redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster | None = None,
        read_retries: int = 3,
        socket_timeout: float = 5.0,
        buckets: int | None = None,
    ) -> None:
        super().__init__(namespace=namespace, handle_key=handle_key, buckets=buckets)
        self._url = url
        self._socket_timeout = socket_timeout
        if client is not None and not client.get_encoder().decode_responses:
            raise ValueError("client must be created with decode_responses=True")
        self._own_client = client is None
        self.redis: Any = client or connect.async_client(url, socket_timeout=socket_timeout)
        # Whether the server is a cluster is asked at the first request (a URL of any node).
        # Kept, not asked per call (0.35 µs: RedisCluster's metaclass is a typing Protocol's).
        self._on_cluster = isinstance(client, redis.asyncio.cluster.RedisCluster)
        self._layout_pending = self._own_client or self._on_cluster
        self._layout_lock = asyncio.Lock()
        self._stale_slots = False
        self._nodes: dict[str, redis.asyncio.Redis] = {}
        self._loop: asyncio.AbstractEventLoop | None = None  # see _bind
        self._auto: AutoPipeline | None = None
        self._loading: dict[str, asyncio.Future[Any]] = {}
        self._read_retry = Retry(
            ExponentialBackoff(cap=0.5, base=0.05),
            read_retries,
            supported_errors=CONNECTION_FAULTS,  # type: ignore[arg-type]
        )
        self._start_cache(
            self._sync_client, cachetime=cachetime, cachemax=cachemax, wait=socket_timeout
        )

    def _sync_client(self) -> redis.Redis:
        """For the cache listener's thread: a sync client to the same server (on a cluster,
        one node: a PUBLISH reaches the subscribers of every node)."""
        if self._own_client:
            return connect.sync_client(self._url, socket_timeout=self._socket_timeout)
        given = self._a_cluster_node() if self._on_cluster else self.redis.connection_pool
        settings = {
            name: value
            for name, value in given.connection_kwargs.items()
            if name in _SYNC_KWARGS or name.startswith("ssl_")  # TLS with its certificates
        }
        if "path" in settings:  # a Unix socket: the sync client's name for it
            settings["unix_socket_path"] = settings.pop("path")
        if issubclass(given.connection_class, redis.asyncio.SSLConnection):
            settings["ssl"] = True
        return redis.Redis(
            **settings,
            decode_responses=True,
            encoding_errors="surrogateescape",
            socket_timeout=self._socket_timeout,
            socket_connect_timeout=self._socket_timeout,
        )

    def _a_cluster_node(self) -> Any:
        """A node of the given cluster client, before its first request too (redis.asyncio
        knows only the startup nodes until then; the listener starts in the constructor)."""
        node = self.redis.get_default_node()
        return node or next(iter(self.redis.nodes_manager.startup_nodes.values()))

    # -- the driver -----------------------------------------------------------------------------

    async def _run(self, plan: Plan[T]) -> T:
        """Run a plan: each request it yields is executed and its reply sent back."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._bind(loop)
        if self._layout_pending:
            await self._settle_layout()
        return await self._run_plan(plan)

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """An instance serves the event loop it first ran in: redis.asyncio's connections
        belong to one loop, and those of a finished loop would never come back to the pool
        (after some 100 `asyncio.run` calls every call would wait for a connection and fail).
        Another loop gets a clear error instead."""
        if self._loop is not None and not self._loop.is_closed():
            raise RuntimeError(
                "this AsyncRedisSessions serves another event loop; create one per event loop"
            )
        if self._loop is not None:
            raise RuntimeError(
                "this AsyncRedisSessions served an event loop that has ended (asyncio.run ends "
                "its loop); create one per event loop, e.g. inside the coroutine asyncio.run runs"
            )
        self._loop = loop

    async def _settle_layout(self) -> None:
        """At the first request: on a cluster, switch to a cluster client and the cluster
        layout, its bucket count read from (or first written to) Redis."""
        async with self._layout_lock:
            if not self._layout_pending:
                return
            if self._own_client and not self._on_cluster:
                if not connect.is_cluster_url(self._url) or not await self._probe_cluster():
                    self._layout_pending = False
                    return
                standalone = self.redis
                self.redis = connect.async_cluster(self._url, socket_timeout=self._socket_timeout)
                self._on_cluster = True
                await standalone.aclose()
            try:
                await self.redis.initialize()
            except CONNECTION_FAULTS as error:
                raise self._unavailable(error) from None
            self.keys = await self._run_plan(self._cluster_layout())
            self._layout_pending = False

    async def _probe_cluster(self) -> bool:
        async def ask() -> Any:
            return await self.redis.info("cluster")

        try:
            return connect.cluster_enabled(await self._read_retry.call_with_retry(ask, _ignore))
        except CONNECTION_FAULTS as error:
            raise self._unavailable(error) from None

    async def _run_plan(self, plan: Plan[T]) -> T:
        try:
            request = next(plan)
            while True:
                try:
                    reply = await self._execute(request)
                except Exception as error:  # the plan may handle it (a batched kill does)
                    request = plan.throw(error)
                else:
                    request = plan.send(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def _execute(self, request: Request) -> Any:
        if isinstance(request, Run):
            attempt: Callable[[], Awaitable[Any]] = lambda: self._eval(request)  # noqa: E731
        elif isinstance(request, Every):
            attempt = lambda: self._every(request)  # noqa: E731
        else:
            attempt = lambda: self._pipe(request)  # noqa: E731
        try:
            if request.write:
                return await attempt()
            return await self._read_retry.call_with_retry(attempt, _ignore)
        except CONNECTION_FAULTS as error:
            raise self._unavailable(error) from None
        except redis.ResponseError as error:
            raise parse.foreign(error) from None

    async def _eval(self, run: Run) -> Any:
        """EVALSHA, and on NOSCRIPT (a restarted or flushed server) load the script, retry."""
        if self._on_cluster:
            (reply,) = await self._cluster([run])
            if isinstance(reply, Exception):
                raise reply
            return reply
        command = ("EVALSHA", run.script.sha, len(run.keys), *run.keys, *run.args)
        auto = self._auto_pipeline()
        try:
            return await auto.call(*command)
        except NoScriptError:
            await self._load(auto, run.script)
            return await auto.call(*command)

    def _auto_pipeline(self) -> AutoPipeline:
        """The kept connection of the loop this instance serves (see autopipe.py, _bind)."""
        if self._auto is None:
            pool = self.redis.connection_pool
            timeout = pool.connection_kwargs.get("socket_timeout")
            self._auto = AutoPipeline(pool, timeout=timeout)
        return self._auto

    async def _load(self, auto: AutoPipeline, script: LuaScript) -> None:
        """SCRIPT LOAD once for all the calls of a gather answered NOSCRIPT together."""
        loading = self._loading.get(script.sha)
        if loading is None or loading.done():
            loading = self._loading[script.sha] = asyncio.ensure_future(
                auto.call("SCRIPT", "LOAD", script.source)
            )
        await asyncio.shield(loading)

    async def _pipe(self, request: Pipe) -> list[Any]:
        if self._on_cluster:
            return await self._cluster(request.items)
        return await self._pipe_on(self.redis, request.items)

    async def _every(self, request: Every) -> list[Any]:
        """The command's reply from the server, or from each master of a cluster."""
        if not self._on_cluster:
            return parse.checked(await self._pipe_on(self.redis, [request.command]))
        if self._stale_slots:
            await self.redis.nodes_manager.initialize()
            self._stale_slots = False
        try:
            return [
                parse.checked(await self._pipe_on(self._node(node), [request.command]))[0]
                for node in self.redis.get_primaries()
            ]
        except CONNECTION_FAULTS:
            self._stale_slots = True  # a master is gone: ask for the slot map next time
            raise

    def _node(self, node: Any) -> redis.asyncio.Redis:
        """Our client of a cluster node (redis.asyncio's cluster nodes have none to lend)."""
        client = self._nodes.get(node.name)
        if client is None:
            client = self._nodes[node.name] = connect.async_node(
                node, socket_timeout=self._socket_timeout
            )
        return client

    async def _cluster(self, items: Sequence[Run | Command]) -> list[Any]:
        """The items on a cluster: one pipeline per node, the nodes at once (routing.py)."""
        cluster = self.redis
        if self._stale_slots:
            await cluster.nodes_manager.initialize()
            self._stale_slots = False

        def node_of(key: Any) -> Any:
            return cluster.nodes_manager.get_node_from_slot(cluster.keyslot(key))

        steps = routing.exchange(items, node_of, cluster.get_default_node)
        try:
            step = next(steps)
            while True:
                if step is routing.REFRESH:
                    await cluster.nodes_manager.initialize()
                    step = steps.send([])
                else:
                    step = steps.send(
                        await asyncio.gather(
                            *(self._on_node(self._node(node), items, idx) for node, idx in step)
                        )
                    )
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        except (*CONNECTION_FAULTS, *routing.BUSY):
            self._stale_slots = True  # a node is gone: ask for the slot map next time
            raise

    async def _on_node(
        self, client: redis.asyncio.Redis, items: Sequence[Run | Command], indexes: list[int]
    ) -> list[Any]:
        if len(indexes) != 1:
            return await self._pipe_on(client, [items[i] for i in indexes])
        item = items[indexes[0]]  # a plain call costs less than a pipeline of one
        command = routing.command(item)
        try:
            try:
                return [await client.execute_command(*command)]  # type: ignore[no-untyped-call]
            except NoScriptError:
                if not isinstance(item, Run):
                    raise
                await client.script_load(item.script.source)
                return [await client.execute_command(*command)]  # type: ignore[no-untyped-call]
        except redis.ResponseError as error:
            return [error]

    async def _pipe_on(
        self, client: redis.asyncio.Redis, items: Sequence[Run | Command]
    ) -> list[Any]:
        """Every item in one pipelined round trip; replies in order, error replies in place.

        Script calls answered NOSCRIPT did not run: they are sent again once loaded.
        """
        replies: list[Any] = [None] * len(items)
        pending: Sequence[int] = range(len(items))
        for _attempt in range(2):
            pipe = client.pipeline(transaction=False)
            for i in pending:
                item = items[i]
                if isinstance(item, Run):
                    pipe.execute_command(
                        "EVALSHA", item.script.sha, len(item.keys), *item.keys, *item.args
                    )
                else:
                    pipe.execute_command(*item)
            noscript: list[int] = []
            for i, reply in zip(pending, await pipe.execute(raise_on_error=False), strict=True):
                replies[i] = reply
                if isinstance(reply, NoScriptError):
                    noscript.append(i)
            if not noscript:
                break
            for source in {items[i].script.source for i in noscript}:  # type: ignore[union-attr]
                await client.script_load(source)
            pending = noscript
        return replies

    # -- the original's operations --------------------------------------------------------------

    async def create(
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
        plan = self._create(app=app, id=id, ip=ip, ttl=ttl, d=d, no_resave=no_resave)
        return await self._run(plan)

    async def create_many(self, *, app: str, sessions: Iterable[NewSession]) -> list[Token]:
        """Create many sessions in one pipelined round trip; all validated first."""
        return await self._run(self._create_many(app=app, sessions=sessions))

    async def get(self, *, app: str, token: str) -> Session | None:
        """The session for a token (counting a read), or None when unknown or timed out."""
        return await self._run(self._get(app=app, token=token))

    async def get_many(self, *, app: str, tokens: Sequence[str]) -> list[Session | None]:
        """`get` for many tokens in one pipelined round trip, in input order."""
        return await self._run(self._get_many(app=app, tokens=tokens))

    async def set(
        self, *, app: str, token: str, d: Mapping[str, DValue], no_resave: Any = None
    ) -> Session | None:
        """Merge `d` into a session's data (None deletes a key); returns the session or None."""
        return await self._run(self._set(app=app, token=token, d=d))

    async def kill(self, *, app: str, token: str) -> Killed:
        """End one session: `{"kill": 1}`, or `{"kill": 0}` when not found."""
        return await self._run(self._kill(app=app, token=token))

    async def killsoid(self, *, app: str, id: str) -> Killed:
        """End every session of one id in an app, in atomic batches."""
        return await self._run(self._killsoid(app=app, id=id))

    async def killall(self, *, app: str) -> Killed:
        """End every session of an app, in atomic batches."""
        return await self._run(self._killall(app=app))

    async def activity(self, *, app: str, delta_time: int) -> Activity:
        """Unique ids active within the last `delta_time` seconds."""
        return await self._run(self._activity(app=app, delta_time=delta_time))

    async def soapp(self, *, app: str, delta_time: int) -> Sessions:
        """Sessions of an app active within the last `delta_time` seconds, newest first."""
        return await self._run(self._soapp(app=app, delta_time=delta_time))

    async def soid(self, *, app: str, id: str) -> Sessions:
        """All live sessions of one id in an app."""
        return await self._run(self._soid(app=app, id=id))

    async def ping(self) -> str:
        return await self._run(self._ping())

    async def aclose(self) -> None:
        """Stop the cache listener and close the connections."""
        if self.cache is not None:
            await asyncio.to_thread(self.cache.close)
        for node in self._nodes.values():
            await node.aclose()
        if self._auto is not None and self._loop is asyncio.get_running_loop():
            await self._auto.aclose()
        self._auto = None
        await self.redis.aclose()

    async def __aenter__(self) -> AsyncRedisSessions:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the wipe -------------------------------------------------------------------------------

    async def wipe(self) -> int:
        """One wipe pass: remove every timed-out session; returns how many."""
        return (await self.wipe_pass())["removed"]

    async def wipe_pass(
        self,
        *,
        batch: int = BATCH,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> WipeReport:
        """Remove timed-out sessions of every app in bounded, atomic batches."""
        plan = self._wipe_pass(batch=batch, progress=progress, should_stop=should_stop)
        return await self._run(plan)

    async def last_wipe(self) -> WipeReport | None:
        """The report of the most recent wipe pass of any wiper, or None."""
        return await self._run(self._last_wipe())

    async def discover_apps(
        self, *, count: int = 1000, should_stop: Callable[[], bool] | None = None
    ) -> list[str]:
        """Walk the keyspace once (SCAN, in steps) to register every app; O(keys)."""
        return await self._run(self._discover_apps(count=count, should_stop=should_stop))

    # -- the dashboard's reads ------------------------------------------------------------------

    async def apps(self) -> list[str]:
        """Every app of the namespace, sorted."""
        return await self._run(self._apps())

    async def has_app(self, *, app: str) -> bool:
        """Whether an app is known: registered here, or holding sessions."""
        return await self._run(self._has_app(app=app))

    async def app_stats(
        self, *, apps: Sequence[str], windows: Sequence[int] = ACTIVITY_WINDOWS
    ) -> list[AppStats]:
        """Per app: sessions, users and unique users active in each window; one round trip."""
        return await self._run(self._app_stats(apps=apps, windows=windows))

    async def activity_histogram(
        self, *, app: str, bucket: int = 3600, buckets: int = 24
    ) -> list[int]:
        """Users whose last activity falls in each bucket, newest bucket first."""
        return await self._run(self._activity_histogram(app=app, bucket=bucket, buckets=buckets))

    async def soapp_page(
        self,
        *,
        app: str,
        delta_time: int,
        offset: int = 0,
        limit: int = 50,
        oldest_first: bool = False,
    ) -> SessionPage:
        """One page of `soapp`, newest first (or oldest), with handles instead of tokens."""
        plan = self._soapp_page(
            app=app, delta_time=delta_time, offset=offset, limit=limit, oldest_first=oldest_first
        )
        return await self._run(plan)

    async def soapp_chunks(
        self, *, app: str, delta_time: int, chunk: int = 1000, oldest_first: bool = False
    ) -> AsyncIterator[list[SessionRow]]:
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
            rows, cursor = await self._run(step)
            if rows:
                yield rows
            if cursor is None:
                return

    async def user_sessions(self, *, app: str, id: str) -> list[SessionRow]:
        """`soid` with handles, newest activity first."""
        return await self._run(self._user_sessions(app=app, id=id))

    async def user_page(
        self,
        *,
        app: str,
        id: str,
        offset: int = 0,
        limit: int = 50,
        delta_time: int | None = None,
    ) -> SessionPage:
        """One page of `user_sessions`; with `delta_time`, only sessions active within it."""
        plan = self._user_page(app=app, id=id, offset=offset, limit=limit, delta_time=delta_time)
        return await self._run(plan)

    async def prefix_page(
        self, *, app: str, prefix: str, delta_time: int, limit: int = 50, budget: int = 200_000
    ) -> SessionPage:
        """Sessions of ids starting with `prefix`, from a bounded walk (see RedisSessions)."""
        plan = self._prefix_page(
            app=app, prefix=prefix, delta_time=delta_time, limit=limit, budget=budget
        )
        return await self._run(plan)

    async def ip_page(
        self,
        *,
        app: str,
        ip: str,
        prefix: bool = False,
        delta_time: int,
        limit: int = 50,
        budget: int = 200_000,
    ) -> SessionPage:
        """Sessions whose ip is (or starts with) `ip`, from a bounded walk (see RedisSessions)."""
        plan = self._ip_page(
            app=app, ip=ip, prefix=prefix, delta_time=delta_time, limit=limit, budget=budget
        )
        return await self._run(plan)

    async def server_info(self) -> ServerInfo:
        """The server's version, memory used, clients and ops/s (INFO), for the dashboard."""
        return await self._run(self._server_info())

    async def user_everywhere(self, *, id: str, limit: int = 50) -> list[AppSessionPage]:
        """The id's live sessions in every app that has any, newest first, `limit` per app."""
        return await self._run(self._user_everywhere(id=id, limit=limit))

    async def killsoid_everywhere(self, *, id: str) -> dict[str, int]:
        """Log an id out of every app; returns what each app ended."""
        return await self._run(self._killsoid_everywhere(id=id))

    async def kill_by_handle(self, *, app: str, id: str, handle: str) -> Killed:
        """End the session of `id` whose handle is `handle`; `{"kill": 0}` when none is."""
        return await self._run(self._kill_by_handle(app=app, id=id, handle=handle))

    async def backdate_many(self, *, app: str, sessions: Sequence[Backdate]) -> int:
        """Demo data only: move sessions' last activity `idle` s back, every index kept."""
        return await self._run(self._backdate_many(app=app, sessions=sessions))
