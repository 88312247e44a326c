"""Every Redis key, member and channel name, built in one place.

The layout is redis-sessions 4.0.0's, so Node apps and this library share one Redis:

    {ns}:{app}:{token}       hash  id r w d ip la ttl no_resave
    {ns}:{app}:_sessions     zset  {token}:{id} -> last activity
    {ns}:{app}:us:{id}       set   the user's tokens
    {ns}:{app}:_users        zset  {id} -> last activity
    {ns}:SESSIONS            zset  {app}:{token}:{id} -> expiry time
    {ns}:cache               channel, message {app}:{token}

plus keys of our own that the Node library never reads: `{ns}:_apps` (set of apps) and
`{ns}:_wipe` (a JSON string, the last wipe pass). They hold one colon, and every key of an
app holds two, so they cannot collide. Lua scripts that find sessions by scanning indexes
get the prefixes and suffixes from here as arguments.

On a Redis Cluster that layout cannot run (an app's keys and `{ns}:SESSIONS` sit in different
slots), so `ClusterKeys` spreads each app over B buckets (module docstring of `ClusterKeys`).
The plans never build a key themselves: they ask the layout for a `Bucket` (the bucket of a
token, of an id, or every bucket of an app), and a bucket names its keys the same way in both
layouts. On a standalone server an app is one bucket, so the plans send exactly the commands
of the 4.0.0 layout.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import lru_cache

from .tokens import ALPHABET

SESSIONS_SUFFIX = "_sessions"
USERS_SUFFIX = "_users"
USER_TOKENS_INFIX = "us:"
EXPIRY_SUFFIX = "_expires"
DEFAULT_BUCKETS = 64
MAX_BUCKETS = len(ALPHABET) ** 2  # a token's first two characters name its bucket
_DIGIT = {c: i for i, c in enumerate(ALPHABET.decode())} | {"Z": 0}


@dataclass(frozen=True, slots=True)
class Bucket:
    """The keys of one part of an app: the whole app on a standalone server (the 4.0.0 keys),
    one of its buckets on a cluster (all under one hash tag, so in one slot). Made once per
    app (and bucket) and kept (`_bucket`): a get asks for one."""

    prefix: str  # session hashes are prefix + token
    expiry: str  # zset {app}:{token}:{id} -> expiry time
    index: int = 0
    sessions: str = field(init=False)  # zset {token}:{id} -> last activity
    users: str = field(init=False)  # zset {id} -> last activity
    user_tokens_prefix: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sessions", self.prefix + SESSIONS_SUFFIX)
        object.__setattr__(self, "users", self.prefix + USERS_SUFFIX)
        object.__setattr__(self, "user_tokens_prefix", self.prefix + USER_TOKENS_INFIX)

    def session(self, token: str) -> str:
        return self.prefix + token

    def user_tokens(self, id: str) -> str | bytes:
        return Keys.wire(self.user_tokens_prefix + id)


@lru_cache(maxsize=4096)
def _bucket(namespace: str, app: str, index: int | None) -> Bucket:
    """An app's bucket `index` on a cluster, or with None the whole app (4.0.0 layout)."""
    if index is None:
        return Bucket(f"{namespace}:{app}:", f"{namespace}:SESSIONS")
    prefix = f"{namespace}:{{{app}:{index:02d}}}:"
    return Bucket(prefix, prefix + EXPIRY_SUFFIX, index)


@dataclass(frozen=True)
class Keys:
    """The 4.0.0 layout (standalone and Sentinel): an app is one bucket."""

    namespace: str
    cluster = False

    # -- the layout's face to the plans -------------------------------------------------------

    def buckets(self, app: str) -> list[Bucket]:
        """Every bucket of an app: app-wide reads and kills go over each and merge."""
        return [self._whole(app)]

    def _whole(self, app: str) -> Bucket:
        return _bucket(self.namespace, app, None)

    def of_id(self, app: str, id: str) -> Bucket:
        """The bucket holding every session of `id` in `app`."""
        return self._whole(app)

    def of_token(self, app: str, token: str) -> Bucket:
        """The bucket of a session, from its token alone."""
        return self._whole(app)

    def token_head(self, bucket: Bucket) -> str:
        """What a new token of `bucket` starts with."""
        return ""

    def expiry_indexes(self, apps: list[str]) -> list[tuple[str, str, str]]:
        """The wipe's expiry zsets, each with what goes before and after an app name to make
        the prefix of its session hashes: one `{ns}:SESSIONS` for every app here."""
        return [(self.all_sessions, self.prefix, ":")]

    @property
    def prefix(self) -> str:
        return f"{self.namespace}:"

    def app_prefix(self, app: str) -> str:
        """Prefix of an app's session hashes: `{ns}:{app}:`."""
        return f"{self.namespace}:{app}:"

    def session(self, app: str, token: str) -> str:
        return f"{self.namespace}:{app}:{token}"

    def app_sessions(self, app: str) -> str:
        return f"{self.namespace}:{app}:{SESSIONS_SUFFIX}"

    def app_users(self, app: str) -> str:
        return f"{self.namespace}:{app}:{USERS_SUFFIX}"

    def user_tokens_prefix(self, app: str) -> str:
        return f"{self.namespace}:{app}:{USER_TOKENS_INFIX}"

    def user_tokens(self, app: str, id: str) -> str:
        return f"{self.namespace}:{app}:{USER_TOKENS_INFIX}{id}"

    @property
    def all_sessions(self) -> str:
        return f"{self.namespace}:SESSIONS"

    @property
    def cache_channel(self) -> str:
        return f"{self.namespace}:cache"

    @property
    def apps_registry(self) -> str:
        return f"{self.namespace}:_apps"

    @property
    def wipe_report(self) -> str:
        return f"{self.namespace}:_wipe"

    def app_sessions_pattern(self) -> str:
        """SCAN pattern matching every app's `_sessions` zset."""
        return f"{self.glob_escape(self.namespace)}:*:{SESSIONS_SUFFIX}"

    @staticmethod
    def glob_escape(text: str) -> str:
        """`text` matched literally in a Redis glob pattern (SCAN/ZSCAN MATCH)."""
        for special in "\\*?[]":
            text = text.replace(special, "\\" + special)
        return text

    @staticmethod
    def cache_message(app: str, token: str) -> str:
        return f"{app}:{token}"

    @staticmethod
    def wire(text: str) -> str | bytes:
        """Text as it goes to Redis. An id another program stored as invalid UTF-8 is read
        with surrogateescape; its escapes go back as the original bytes."""
        if text.isascii():
            return text
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return text.encode("utf-8", "surrogateescape")
        return text

    @staticmethod
    def split_token_member(member: str) -> tuple[str, str]:
        """`{token}:{id}` -> (token, id); ids may hold ':', tokens never do."""
        token, _, id = member.partition(":")
        return token, id


@dataclass(frozen=True)
class ClusterKeys(Keys):
    """Our layout for Redis Cluster: each app spread over `bucket_count` buckets.

    A session lives in bucket `crc32(id) mod B`, so every key of one user shares the hash tag
    `{app:BB}` and single-session and single-user operations stay one script on one slot:

        {ns}:{app:BB}:{token}       hash  as in 4.0.0
        {ns}:{app:BB}:_sessions     zset  {token}:{id} -> last activity
        {ns}:{app:BB}:_users        zset  {id} -> last activity
        {ns}:{app:BB}:us:{id}       set   the user's tokens
        {ns}:{app:BB}:_expires      zset  {app}:{token}:{id} -> expiry time ({ns}:SESSIONS)
        {ns}:_apps, {ns}:_wipe, {ns}:_buckets (B, fixed once written), channel {ns}:cache

    A token's first two characters name its bucket, so `get` finds the slot with no lookup.
    An id lives in one bucket, so per-bucket counts of ids add up to an exact count.
    """

    bucket_count: int = DEFAULT_BUCKETS
    cluster = True

    def __post_init__(self) -> None:
        if "{" in self.namespace or "}" in self.namespace:
            raise ValueError("on a Redis Cluster the namespace may not hold '{' or '}'")
        if not 1 <= self.bucket_count <= MAX_BUCKETS:
            raise ValueError(f"buckets must be from 1 to {MAX_BUCKETS}")

    @property
    def buckets_setting(self) -> str:
        return f"{self.namespace}:_buckets"

    def _bucket(self, app: str, index: int) -> Bucket:
        return _bucket(self.namespace, app, index)

    def buckets(self, app: str) -> list[Bucket]:
        return [self._bucket(app, i) for i in range(self.bucket_count)]

    def of_id(self, app: str, id: str) -> Bucket:
        wire = self.wire(id)
        raw = wire if isinstance(wire, bytes) else wire.encode()
        return self._bucket(app, zlib.crc32(raw) % self.bucket_count)

    def of_token(self, app: str, token: str) -> Bucket:
        high, low = _DIGIT.get(token[:1], 0), _DIGIT.get(token[1:2], 0)
        return self._bucket(app, (high * len(ALPHABET) + low) % self.bucket_count)

    def token_head(self, bucket: Bucket) -> str:
        high, low = divmod(bucket.index, len(ALPHABET))
        return chr(ALPHABET[high]) + chr(ALPHABET[low])

    def expiry_indexes(self, apps: list[str]) -> list[tuple[str, str, str]]:
        return [
            (bucket.expiry, f"{self.namespace}:{{", f":{bucket.index:02d}}}:")
            for app in apps
            for bucket in self.buckets(app)
        ]
