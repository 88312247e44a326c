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
"""

from __future__ import annotations

from dataclasses import dataclass

SESSIONS_SUFFIX = "_sessions"
USERS_SUFFIX = "_users"
USER_TOKENS_INFIX = "us:"


@dataclass(frozen=True)
class Keys:
    namespace: str

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
