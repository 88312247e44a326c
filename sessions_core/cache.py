"""The optional in-process session cache and its invalidation listener.

Like redis-sessions 4.0.0: `get` replies are kept for `cachetime` seconds (at most `cachemax`
of them), and every instance, ours or Node's, drops an entry when a `{ns}:cache` message
names it. The listener runs in a daemon thread, reconnects with backoff after a Redis restart,
and while it is not subscribed the cache neither serves nor stores anything (invalidations
could be missed then), so a stale session is never returned.
"""

from __future__ import annotations

import copy
import itertools
import logging
import threading
from collections.abc import Callable

import redis
from cachetools import TTLCache
from redis.backoff import ExponentialBackoff

from .types import Session

log = logging.getLogger(__name__)


class SessionCache:
    def __init__(
        self,
        client_factory: Callable[[], redis.Redis],
        channel: str,
        ttl: float,
        maxsize: int,
    ) -> None:
        self._entries: TTLCache[str, Session] = TTLCache(maxsize=maxsize, ttl=ttl)
        # When each key was last dropped, so a read that raced with a drop is not stored.
        self._dropped: TTLCache[str, int] = TTLCache(maxsize=maxsize, ttl=ttl)
        self._cleared = 0  # the tick of the last clear(): older reads are not stored either
        self._ticks = itertools.count(1)
        self._lock = threading.Lock()
        self._client_factory = client_factory
        self._channel = channel
        self.subscribed = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._listen, name=f"sessions-cache:{channel}", daemon=True
        )
        self._thread.start()

    def tick(self) -> int:
        """A stamp to take before reading from Redis and hand back to `put`."""
        return next(self._ticks)

    def get(self, key: str) -> Session | None:
        if not self.subscribed.is_set():
            return None
        with self._lock:
            found = self._entries.get(key)
        return copy.deepcopy(found) if found is not None else None

    def put(self, key: str, session: Session, read_at: int) -> None:
        if not self.subscribed.is_set():
            return
        with self._lock:
            if max(self._dropped.get(key, 0), self._cleared) < read_at:
                self._entries[key] = copy.deepcopy(session)

    def drop(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._dropped[key] = next(self._ticks)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._cleared = next(self._ticks)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def close(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _listen(self) -> None:
        backoff = ExponentialBackoff(cap=5.0, base=0.05)
        failures = 0
        while not self._stopping.is_set():
            client = self._client_factory()
            pubsub = client.pubsub()  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self._channel)
                while not self._stopping.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        failures = 0
                        self.subscribed.set()
                    elif message["type"] == "message":
                        # `{app}:{token}`, or on a cluster several, space-separated
                        for key in str(message["data"]).split(" "):
                            self.drop(key)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
                self.subscribed.clear()
                self.clear()
                failures += 1
                log.warning("session cache listener lost Redis (%s); reconnecting", error)
                # compute() takes 2**failures as a float: past ~1024 failures (an hour and a
                # half of outage) it raises OverflowError and would end the listener for good.
                self._stopping.wait(backoff.compute(min(failures, 16)))
            finally:
                self.subscribed.clear()
                pubsub.close()
                client.close()
