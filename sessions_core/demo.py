"""Demo data support: give freshly created sessions a past last activity.

`create` always stamps "now", so a demo seeded in one go would show every user active in
the last minute. `backdate_many` moves sessions back in time with every index kept
consistent, so the dashboard's activity windows and histograms look like a real day.
It exists for `manage.py seed_demo` and tests; an application never needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypedDict

from . import parse
from . import validation as check
from .keys import Keys
from .plans import Pipe, Plan, Run
from .scripts import script

if TYPE_CHECKING:
    from .store import RedisSessions


class Backdate(TypedDict):
    """One session to move back: its token, its id, and the seconds since its activity."""

    token: str
    id: str
    idle: int


class DemoData:
    """The plan of `backdate_many`. Needs `keys`."""

    keys: Keys

    def _backdate_many(self, *, app: str, sessions: Sequence[Backdate]) -> Plan[int]:
        app = check.app(app)
        prepared = []
        for s in sessions:
            idle = s["idle"]
            if isinstance(idle, bool) or not isinstance(idle, int) or idle < 0:
                raise ValueError("idle must be an integer >= 0")
            prepared.append((check.token(s["token"]), check.user_id(s["id"]), idle))
        if not prepared:
            return 0
        backdate = script("backdate")
        calls = []
        for token, id, idle in prepared:
            b = self.keys.of_token(app, token)
            keys = [b.session(token), b.sessions, b.users, b.expiry, b.user_tokens(id)]
            calls.append(Run(backdate, keys, [token, id, app, idle, b.prefix]))
        replies = parse.checked((yield Pipe(calls, write=True)))
        return sum(int(found) for found in replies)


def backdate_many(rs: RedisSessions, *, app: str, sessions: Sequence[Backdate]) -> int:
    """Set each session's last activity `idle` seconds ago; returns how many were found.

    `idle` must be below the session's ttl, or the session is timed out at once. One
    pipelined round trip; each session is updated atomically.
    """
    return rs.backdate_many(app=app, sessions=sessions)
