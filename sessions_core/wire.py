"""Commands on the wire for the sync class: packed in RESP by hiredis, sent in one write on a
connection the instance keeps checked out of each pool, replies read in order.

redis-py's per-command path (a pool checkout and return under a lock, its Python packer, the
retry and metrics wrappers, a pipeline object per batch) is about a fifth of a get's latency
and a tenth of a create_many's; the replies are the same (redis-py's response callbacks run
on commands other than scripts, as `execute_command` would).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import redis

from .base import CONNECTION_FAULTS

_hiredis_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # hiredis is an optional extra
    _hiredis_pack = None


def pack(commands: Sequence[tuple[Any, ...]], connection: Any) -> list[bytes]:
    """The commands in RESP: hiredis' C packer when installed (redis-py packs in Python, about
    2 µs a script call), else the connection's own."""
    if _hiredis_pack is not None:
        try:
            return [b"".join(map(_hiredis_pack, commands))]
        except UnicodeEncodeError:  # an id another program stored as invalid UTF-8
            pass
    return list(connection.pack_commands(commands))


def exchange(connection: Any, commands: Sequence[tuple[Any, ...]], callbacks: Any) -> list[Any]:
    """Send `commands` in one write and read their replies: error replies in place (read
    whole, so the connection stays usable); any other failure closes the connection, so no
    half-read reply is left for the next caller."""
    try:
        connection.send_packed_command(pack(commands, connection), check_health=False)
        replies: list[Any] = []
        for command in commands:
            try:
                reply = connection.read_response()
            except redis.ResponseError as error:
                replies.append(error)
                continue
            name = command[0]
            if name != "EVALSHA" and name in callbacks:
                reply = callbacks[name](reply)
            replies.append(reply)
        return replies
    except BaseException:
        connection.disconnect()
        raise


def _stale(connection: Any) -> bool:
    """Whether an open connection has data waiting (the server restarted or erred), as the
    pool checks on checkout."""
    try:
        return bool(connection.can_read())
    except CONNECTION_FAULTS:
        return True


# Forks seen by this process's line: a child's kept connections are its parent's, never to be
# touched (os.getpid() per call is a system call).
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


class KeptConnections:
    """One connection per pool (the server's, or on a cluster each node's), kept checked out
    and used by whichever thread finds it free; a thread that finds it busy checks one out of
    the pool, as redis-py would. A forked child never touches its parent's connections."""

    def __init__(self) -> None:
        self._kept: dict[int, tuple[Any, Any]] = {}  # id(pool) -> (pool, connection)
        self._forks = _forks
        self._lock = threading.Lock()

    def exchange(
        self, client: redis.Redis, commands: Sequence[tuple[Any, ...]], *, write: bool
    ) -> list[Any]:
        """`commands`' replies (error replies in place), on `client`'s server.

        A kept connection may have been closed by the server while idle (a restart). Before a
        write it is checked, as the pool checks a connection on checkout: a write whose reply
        is lost is never sent again. A read skips the check (a poll, 1 µs of a 30 µs get)
        and is sent again at once on a new connection if the server turns out to be gone.
        """
        pool = client.connection_pool
        callbacks = client.response_callbacks
        if not self._lock.acquire(blocking=False):
            connection = pool.get_connection()  # the pool checks it on checkout
            try:
                return exchange(connection, commands, callbacks)
            finally:
                pool.release(connection)
        try:
            if self._forks != _forks:
                self._kept, self._forks = {}, _forks
            kept = self._kept.get(id(pool))
            if kept is None:
                kept = self._kept[id(pool)] = (pool, pool.get_connection())
            connection = kept[1]
            # Its class's own connect, not the one sending would make: a Sentinel connection
            # asks the sentinels for the primary there.
            if getattr(connection, "_sock", None) is None:  # redis-py 5 has no is_connected
                connection.connect()
            elif write and _stale(connection):
                connection.disconnect()
                connection.connect()
            if write:
                return exchange(connection, commands, callbacks)
            try:
                return exchange(connection, commands, callbacks)
            except redis.ConnectionError:  # closed or reset; not a timeout, which would wait
                connection.connect()
                return exchange(connection, commands, callbacks)
        finally:
            self._lock.release()

    def close(self) -> None:
        """Hand the kept connections back to their pools."""
        with self._lock:
            if self._forks == _forks:
                for pool, connection in self._kept.values():
                    pool.release(connection)
            self._kept = {}
