"""Replies read into the library's results, and error replies into its exceptions."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from . import validation as check
from .errors import CorruptData, CorruptSession, ValidationError
from .types import Session, WipeReport

# Fields read for a session, in the order the original's HMGET uses.
FIELDS = ("id", "r", "w", "ttl", "d", "la", "ip", "no_resave")
_INTEGER = re.compile(r"-?[0-9]{1,15}", re.ASCII)


def foreign(error: Exception) -> Exception:
    """An error reply caused by another program's data, as CorruptData; others unchanged.

    Never redis-py's "Command # n (<arguments>)" text: arguments hold session keys, so tokens.
    """
    text = str(error)
    if text.startswith("WRONGTYPE"):
        return CorruptData("a key holds another type than the layout's (another program's data)")
    if text.startswith("CORRUPT "):
        return CorruptSession(text.removeprefix("CORRUPT ").split(" script: ")[0])
    if text.startswith("TOOBIG "):
        return check.too_large_d()
    return error


def checked(replies: Sequence[Any]) -> list[Any]:
    """Pipelined replies, raising the first error reply (as `foreign` words it)."""
    for reply in replies:
        if isinstance(reply, Exception):
            raise foreign(reply)
    return list(replies)


def integer(value: Any, field: str) -> int:
    """An integer hash field (missing -> 0); anything else another program wrote is corrupt."""
    if value is None or value == "":
        return 0
    if isinstance(value, int):  # a script's own reply (set's new `w`)
        return value
    if len(value) <= 15 and value.isascii() and value.isdigit():  # the common case, fast
        return int(value)
    if not _INTEGER.fullmatch(value):
        raise CorruptSession(f"a session's {field} is not an integer")
    return int(value)


def session(fields: Sequence[Any], now: int) -> Session | None:
    """The original's session object from HMGET fields; None when timed out.

    Raises CorruptSession when another program wrote fields this library cannot read.
    """
    id, r, w, ttl, d, la, ip, no_resave = fields[:8]
    if id is None:
        return None
    idle = now - integer(la, "la")
    found: Session = {
        "id": str(id),
        "r": integer(r, "r"),
        "w": integer(w, "w"),
        "ttl": integer(ttl, "ttl"),
        "idle": idle,
        "ip": "" if ip is None else str(ip),
    }
    if found["ttl"] < idle:
        return None
    if no_resave == "1":
        found["no_resave"] = True
        found["ttl"] -= idle
    if d:
        found["d"] = _d(d)
    return found


def _d(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:  # not a ValueError to callers: that would pass for bad input
        raise CorruptSession("a session's d is not valid JSON") from None
    if not isinstance(data, dict):
        raise CorruptSession("a session's d is JSON but not an object")
    return data


def touched(reply: Any) -> Session | None:
    """touch.lua's reply: the session as it was before the call, or None.

    The script has checked the counters and times and sends them as integers, so the common
    case skips `session`'s checks (a third of a get_many's client time).
    """
    if not reply:
        return None
    id, r, w, ttl, d, la, ip, no_resave, now = reply
    if type(r) is not int or type(w) is not int or type(ttl) is not int or type(la) is not int:
        return session(reply, int(now))
    idle = now - la
    if ttl < idle:
        return None
    found: Session = {"id": id, "r": r, "w": w, "ttl": ttl, "idle": idle, "ip": ip or ""}
    if no_resave == "1":
        found["no_resave"] = True
        found["ttl"] = ttl - idle
    if d:
        found["d"] = _d(d)
    return found


def expires_in(found: Session) -> int:
    if found.get("no_resave"):
        return found["ttl"]
    return found["ttl"] - found["idle"]


def wipe_report(raw: Any) -> WipeReport | None:
    """A stored wipe report, or None when the key holds anything else."""
    if not isinstance(raw, str):
        return None
    try:
        report = json.loads(raw)
        if not isinstance(report, dict):
            return None
        per_app = report["per_app"]
        return {
            "started_at": float(report["started_at"]),
            "duration": float(report["duration"]),
            "removed": int(report["removed"]),
            "per_app": {str(app): int(n) for app, n in per_app.items()},
            "remaining": int(report["remaining"]),
            "foreign_keys": [str(key) for key in report.get("foreign_keys", [])][:100],
        }
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        return None


def paging(offset: Any, limit: Any) -> None:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValidationError("invalidValue", "offset must be an integer >= 0")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise ValidationError("invalidValue", "limit must be an integer from 1 to 1000")
