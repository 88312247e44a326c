"""Script calls of concurrent coroutines on one kept connection, written together.

`AsyncRedisSessions` sends its single script calls (`get`, `create`, `set`, `kill`, ...) here
instead of through redis.asyncio's pool: the calls issued in one turn of the event loop go out
in one write, and one reader hands the replies back in order, as node-redis does with its
commands. An `asyncio.gather` of 1000 gets is then one pipelined round trip instead of 1000
pool checkouts; a lone awaited call skips the pool's bookkeeping.

Every call still gets its own reply; an error reply raises for that call only. A connection
fault fails every call written but not answered, and the connection is dropped (the next call
opens a new one): a write whose reply was lost is never sent again, as elsewhere.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import redis
import redis.asyncio


class AutoPipeline:
    """One kept connection of `pool` shared by the calls of one event loop."""

    def __init__(self, pool: redis.asyncio.ConnectionPool) -> None:
        self._pool = pool
        self._connection: Any = None
        self._queued: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._write_lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._reader_connection: Any = None
        self._flushing = False
        self._flushes: set[asyncio.Task[None]] = set()

    async def call(self, *args: Any) -> Any:
        """Send one command with the others of this loop turn; its reply."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queued.append((args, future))
        if not self._flushing:
            self._flushing = True
            flush = asyncio.ensure_future(self._flush())
            self._flushes.add(flush)  # kept until done: a task only weakly referenced can vanish
            flush.add_done_callback(self._flushes.discard)
        return await future

    async def _flush(self) -> None:
        async with self._write_lock:
            self._flushing = False
            batch, self._queued = self._queued, []
            if not batch:
                return
            written = False
            try:
                connection = await self._connect()
                packed = connection.pack_commands([args for args, _ in batch])
                self._waiting.extend(future for _, future in batch)
                written = True
                await connection.send_packed_command(packed, check_health=False)
            except BaseException as error:
                if not written:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(_copy(error))
                await self._fail(error)
                if not isinstance(error, Exception):
                    raise
                return
            reader = self._reader
            if reader is None or reader.done() or self._reader_connection is not connection:
                self._reader = asyncio.ensure_future(self._read(connection))
                self._reader_connection = connection

    async def _connect(self) -> Any:
        """The kept connection; a new one when there is none or the server closed it (the
        pool's own check: data waiting on an idle connection means it restarted or erred)."""
        connection = self._connection
        if connection is not None and not self._waiting:
            try:
                stale = await connection.can_read()
            except (redis.ConnectionError, OSError):
                stale = True
            if stale:
                await connection.disconnect()
                await connection.connect()
        if connection is None:
            connection = self._connection = await self._pool.get_connection()  # type: ignore[no-untyped-call]
        return connection

    async def _read(self, connection: Any) -> None:
        """Replies in order, while calls wait on this connection (a fault ends it: a newer
        connection has its own reader)."""
        while self._waiting and connection is self._connection:
            try:
                reply: Any = await connection.read_response()
            except redis.ResponseError as error:
                reply = error  # read whole: the connection stays in step
            except BaseException as error:
                if connection is self._connection:
                    await self._fail(error)
                if not isinstance(error, Exception):
                    raise
                return
            future = self._waiting.popleft()
            if future.done():  # its caller was cancelled: the reply is dropped
                continue
            if isinstance(reply, redis.ResponseError):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _fail(self, error: BaseException) -> None:
        """A fault: every call written and not answered fails with it; the connection goes."""
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(_copy(error))
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.disconnect()
            await self._pool.release(connection)

    async def aclose(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
        await self._fail(redis.ConnectionError("the sessions store was closed"))


def _copy(error: BaseException) -> BaseException:
    """One exception object per failed call (an exception raised in several tasks would share
    one traceback)."""
    try:
        return type(error)(*error.args)
    except Exception:  # an exception type whose constructor wants other arguments
        return error
