"""What both classes share: settings, key names, the handle key, the cache, and every plan."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import redis

from .cache import SessionCache
from .demo import DemoData
from .keys import Keys
from .reads import DashboardReads
from .wipe import Wipe

CONNECTION_FAULTS = (redis.ConnectionError, redis.TimeoutError, OSError)


class SessionsBase(DashboardReads, Wipe, DemoData):
    """The I/O-free half of `RedisSessions` and `AsyncRedisSessions`."""

    def __init__(self, *, namespace: str, handle_key: bytes | None) -> None:
        if not namespace or not isinstance(namespace, str):
            raise ValueError("namespace must be a non-empty string")
        self.namespace = namespace
        self.keys = Keys(namespace)
        self._handle_key = handle_key or secrets.token_bytes(32)
        self.cache: SessionCache | None = None

    def _start_cache(
        self,
        client_factory: Callable[[], redis.Redis],
        *,
        cachetime: float,
        cachemax: int,
        wait: float,
    ) -> None:
        """Keep `get` replies for `cachetime` s, and wait (at most `wait` s) until the
        listener has subscribed: until then the cache neither serves nor stores."""
        if not cachetime or cachetime <= 0:
            return
        self.cache = SessionCache(
            client_factory,
            self.keys.cache_channel,
            ttl=cachetime,
            maxsize=cachemax if cachemax and cachemax > 0 else 5000,
        )
        self.cache.subscribed.wait(wait)
