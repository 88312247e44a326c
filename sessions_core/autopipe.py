"""Script calls of concurrent coroutines on one kept connection, written together.

`AsyncRedisSessions` sends its single script calls (`get`, `create`, `set`, `kill`, ...) here
instead of through redis.asyncio's pool. The calls issued in one turn of the event loop go out
in one write, and the replies are handed back in order, as node-redis does with its commands:
an `asyncio.gather` of 1000 gets is one pipelined round trip instead of 1000 pool checkouts.
A lone awaited call writes and reads in its own coroutine, with no task and no pool
bookkeeping (the pool's per-call cost was most of an awaited get's latency).

One coroutine at a time reads replies (the "reader"): the caller that wrote into an idle
connection reads until its own reply is in, and hands what is left to a reader task. Every call
gets its own reply; an error reply raises for that call only; a cancelled caller's reply is
read and dropped. A connection fault fails every call written and not answered, and the
connection is dropped (the next call opens a new one): a write whose reply was lost is never
sent again, as elsewhere in the library.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import redis
import redis.asyncio

from .wire import pack


class AutoPipeline:
    """One kept connection of `pool` shared by the calls of one event loop."""

    def __init__(self, pool: redis.asyncio.ConnectionPool, *, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._connection: Any = None
        self._queued: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._writing = False  # a write is under way (or scheduled): new calls join the next
        self._reading = False  # a coroutine is reading replies
        self._tasks: set[asyncio.Task[None]] = set()

    async def call(self, *args: Any) -> Any:
        """Send one command with the others of this loop turn; its reply."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queued.append((args, future))
        if not self._writing:
            self._writing = True
            if self._reading or self._waiting:
                self._spawn(self._write(inline=False))  # joined by the calls of this loop turn
            else:
                await self._write(inline=True)  # an idle connection: write now, read below
        if not self._reading and self._waiting and not future.done():
            self._reading = True
            await self._read(until=future)
        return await future

    def _start_reader(self) -> None:
        """A reader task for the replies still owed (`_reading` is set before it runs, so
        there is never a second reader)."""
        self._reading = True
        self._spawn(self._read(until=None))

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)  # kept until done: a task only weakly referenced can vanish
        task.add_done_callback(self._tasks.discard)

    async def _write(self, *, inline: bool) -> None:
        """Write the calls queued; a write task also starts a reader (an inline writer reads
        its own reply)."""
        batch, self._queued = self._queued, []
        try:
            connection = await self._connect()
            packed = pack([args for args, _ in batch], connection)
            self._waiting.extend(future for _, future in batch)
            batch = []
            writer = connection._writer  # redis-py's send_packed_command adds a task per call
            writer.writelines(packed)
            if writer.transport.get_write_buffer_size():  # the socket did not take it all
                async with asyncio.timeout(self._timeout):
                    await writer.drain()
        except BaseException as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(_as_redis_error(error))
            await self._fail(error)
            if not isinstance(error, Exception):
                raise
        finally:
            self._writing = False
            if self._queued:  # calls that came while this write waited on the socket
                self._writing = True
                self._spawn(self._write(inline=False))
        if not inline and not self._reading and self._waiting:
            self._start_reader()

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
        if connection is None:
            get = self._pool.get_connection
            connection = self._connection = await get()  # type: ignore[no-untyped-call]
        if not connection.is_connected:
            await connection.connect()
        return connection

    async def _read(self, *, until: asyncio.Future[Any] | None) -> None:
        """Read replies in order: until `until` is answered, or (a reader task) until no
        call waits. A fault ends the reading and fails the calls waiting. The caller has set
        `_reading`."""
        connection = self._connection
        try:
            while self._waiting and (until is None or not until.done()):
                try:
                    reply: Any = await connection.read_response(disconnect_on_error=False)
                except redis.ResponseError as error:
                    reply = error  # read whole: the connection stays in step
                except asyncio.CancelledError:
                    # The calling reader was cancelled. hiredis keeps a reply read in part,
                    # so a reader task carries on (see finally); another parser may have lost
                    # bytes, and then the calls waiting fail as on a fault.
                    if connection is self._connection and not _resumable(connection):
                        await self._fail(redis.ConnectionError("a read was cancelled mid-reply"))
                    raise
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
        finally:
            self._reading = False
            if self._waiting:
                self._start_reader()  # the others' replies

    async def _fail(self, error: BaseException) -> None:
        """A fault: every call written and not answered fails with it; the connection goes."""
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(_as_redis_error(error))
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.disconnect()
            await self._pool.release(connection)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._fail(redis.ConnectionError("the sessions store was closed"))


def _resumable(connection: Any) -> bool:
    """Whether a read cut short can be resumed: hiredis' reader keeps the bytes it was fed."""
    return type(getattr(connection, "_parser", None)).__name__ == "_AsyncHiredisParser"


def _as_redis_error(error: BaseException) -> BaseException:
    """One exception object per failed call, socket errors as redis-py words them."""
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return redis.TimeoutError(f"Timeout talking to Redis ({error})")
    if isinstance(error, OSError):
        return redis.ConnectionError(f"Error talking to Redis: {error}")
    try:
        return type(error)(*error.args)
    except Exception:  # an exception type whose constructor wants other arguments
        return error
