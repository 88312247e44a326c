"""What both classes share: settings, key names, the handle key, the cache, and every plan."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

import redis
from cachetools import TTLCache

from . import connect, parse
from .cache import SessionCache
from .demo import DemoData
from .errors import StoreUnavailable
from .keys import DEFAULT_BUCKETS, MAX_BUCKETS, ClusterKeys, Keys
from .plans import Pipe, Plan
from .wipe import REGISTERED_SECONDS, Wipe

CONNECTION_FAULTS = (redis.ConnectionError, redis.TimeoutError, OSError)


class SessionsBase(Wipe, DemoData):
    """The I/O-free half of `RedisSessions` and `AsyncRedisSessions`."""

    def __init__(
        self, *, namespace: str, handle_key: bytes | None, buckets: int | None = None
    ) -> None:
        if not namespace or not isinstance(namespace, str):
            raise ValueError("namespace must be a non-empty string")
        if buckets is not None and (
            isinstance(buckets, bool)
            or not isinstance(buckets, int)
            or not 1 <= buckets <= MAX_BUCKETS
        ):
            raise ValueError(f"buckets must be an integer from 1 to {MAX_BUCKETS}")
        self.namespace = namespace
        self.keys: Keys = Keys(namespace)
        self._buckets = buckets
        self._handle_key = handle_key or secrets.token_bytes(32)
        self.cache: SessionCache | None = None
        # On a cluster: the apps this process registered lately (see Operations._register).
        self._registered: TTLCache[str, bool] = TTLCache(maxsize=10_000, ttl=REGISTERED_SECONDS)
        self._registering = threading.Lock()

    # Set by each class: its URL, whether it made its own client, that client, and whether
    # that client is a cluster's.
    _url: str
    _own_client: bool
    redis: Any
    _on_cluster: bool

    def _unavailable(self, error: BaseException) -> StoreUnavailable:
        """The error for a connection fault, naming the server (never a password)."""
        url = self._url if self._own_client else ""
        if self._on_cluster:
            where = connect.where_cluster(url)
        else:
            where = connect.where(url, self.redis.connection_pool.connection_kwargs)
        return StoreUnavailable(f"Redis is unreachable ({type(error).__name__}): {where}")

    def _cluster_layout(self) -> Plan[ClusterKeys]:
        """The cluster layout, its bucket count the one stored in `{ns}:_buckets`, written by
        the first process to ask (`buckets`, else 64). A process configured otherwise is
        refused: with another count it would look for sessions in the wrong buckets."""
        layout = ClusterKeys(self.namespace, self._buckets or DEFAULT_BUCKETS)
        key = layout.buckets_setting
        _, stored = parse.checked(
            (yield Pipe([("SET", key, layout.bucket_count, "NX"), ("GET", key)], write=True))
        )
        if not str(stored).isdigit() or not 1 <= int(stored) <= MAX_BUCKETS:
            raise ValueError(f"{key} holds {stored!r}, not a bucket count (another program's?)")
        if self._buckets is not None and int(stored) != self._buckets:
            raise ValueError(
                f"this cluster's sessions use {stored} buckets ({key}), not {self._buckets}"
            )
        return ClusterKeys(self.namespace, int(stored))

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
