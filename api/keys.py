"""Bearer keys: what a key may do (`Grant`), found in the database and kept in a TTL cache so
that a request does not query the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from cachetools import TTLCache
from django.utils import timezone

from .db import Database
from .models import KEY_PREFIX, ApiKey, app_names, key_digest

# `last_used` is written at most this often per key (and only when the cache misses).
LAST_USED_STEP = timedelta(seconds=60)
# Known and unknown keys alike are cached: a client retrying a wrong key does not reach the
# database each time either. Least recently used entries go first when it is full.
CACHE_SIZE = 4096
# A key is KEY_PREFIX and 43 base64url characters; anything else is refused unhashed.
KEY_LENGTH = len(KEY_PREFIX) + 43


@dataclass(frozen=True, slots=True)
class Grant:
    """What one key may do."""

    name: str
    apps: frozenset[str] | None  # None: every app
    read_only: bool

    def allows_app(self, app: str) -> bool:
        return self.apps is None or app in self.apps


def find_grant(digest: str) -> Grant | None:
    """The active key with this hash, as a Grant, its `last_used` brought up to date; sync."""
    key = ApiKey.objects.filter(key_hash=digest, is_active=True).first()
    if key is None:
        return None
    now = timezone.now()
    if key.last_used is None or now - key.last_used >= LAST_USED_STEP:
        ApiKey.objects.filter(pk=key.pk).update(last_used=now)
    apps = None if key.all_apps else frozenset(app_names(key.apps))
    return Grant(name=key.name, apps=apps, read_only=key.read_only)


class KeyChecker:
    """Turns a presented key into its Grant (or None), with a TTL cache in front of the
    database; concurrent misses for one key share one database query."""

    def __init__(
        self, *, db: Database, ttl: float, find: Callable[[str], Grant | None] = find_grant
    ) -> None:
        self._db = db
        self._find = find
        # ttl 0 turns the cache off (every request queries the database).
        self._cache: TTLCache[str, Grant | None] | None = (
            TTLCache(maxsize=CACHE_SIZE, ttl=ttl) if ttl > 0 else None
        )
        self._pending: dict[str, asyncio.Future[Grant | None]] = {}

    async def grant(self, key: str) -> Grant | None:
        """The key's Grant; None for a key that is unknown, revoked or malformed.

        Raises django.db.Error when the database cannot be asked.
        """
        if len(key) != KEY_LENGTH or not key.startswith(KEY_PREFIX):
            return None
        digest = key_digest(key)
        if self._cache is not None:
            try:
                return self._cache[digest]
            except KeyError:
                pass
        pending = self._pending.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(self._db.run(self._find, digest))
            self._pending[digest] = pending
            pending.add_done_callback(lambda done: self._store(digest, done))
        # One caller's cancellation (a client gone) must not cancel the others' query.
        return await asyncio.shield(pending)

    def _store(self, digest: str, done: asyncio.Future[Grant | None]) -> None:
        self._pending.pop(digest, None)
        if self._cache is not None and not done.cancelled() and done.exception() is None:
            self._cache[digest] = done.result()
