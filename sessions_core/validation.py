"""Argument checks with redis-sessions 4.0.0's error names and messages.

Every public operation validates all of its arguments before it talks to Redis, so bad input
raises `ValidationError` and writes nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import ValidationError
from .types import DValue

# The rules other parts (the dashboard's URLs, forms, models, templates, known_apps.lua) use.
APP_MIN_LENGTH, APP_MAX_LENGTH = 3, 20
APP_PATTERN = rf"[A-Za-z0-9_-]{{{APP_MIN_LENGTH},{APP_MAX_LENGTH}}}"
ID_MAX_LENGTH = 128
IP_MAX_LENGTH = 39
APP_RE = re.compile(APP_PATTERN, re.ASCII)
TOKEN_RE = re.compile(r"[A-Za-z0-9]{64}", re.ASCII)
# JavaScript's `.` (the original's id and ip rules) matches anything but these.
LINE_BREAKS = re.compile("[\n\r\u2028\u2029]")
DEFAULT_TTL = 7200
MIN_SECONDS = 10
# Upper bound of ttl and delta_time: 10 years. Redis stores a score past 2**53 inexactly, and a
# ttl of 10**400 would be stored as infinity and never wiped.
MAX_SECONDS = 10 * 365 * 86400
# Upper bound of a session's `d` as JSON text (UTF-8 bytes): `set` merges it inside one Lua
# script, which takes about 0.15 ms per kB; 64 KiB stays near 10 ms.
MAX_D_BYTES = 65536


def _missing(item: str) -> ValidationError:
    return ValidationError("missingParameter", f"No {item} supplied")


def _bad_format(item: str) -> ValidationError:
    return ValidationError("invalidFormat", f"Invalid {item} format")


def _encodable(value: str, errors: str = "strict") -> bool:
    try:
        value.encode("utf-8", errors)
    except UnicodeEncodeError:  # lone surrogates cannot be stored
        return False
    return True


def app(value: object) -> str:
    if value is None or value == "":
        raise _missing("app")
    if not isinstance(value, str) or not APP_RE.fullmatch(value):
        raise _bad_format("app")
    return value


def token(value: object) -> str:
    if value is None or value == "":
        raise _missing("token")
    if not isinstance(value, str) or not TOKEN_RE.fullmatch(value):
        raise _bad_format("token")
    return value


def _text(item: str, value: object, max_length: int, errors: str = "strict") -> str:
    if value is None or value == "":
        raise _missing(item)
    if (
        not isinstance(value, str)
        or len(value) > max_length
        or LINE_BREAKS.search(value)
        or not (value.isascii() or _encodable(value, errors))
    ):
        raise _bad_format(item)
    return value


def user_id(value: object) -> str:
    """An id: 1-128 characters of any Unicode but line breaks (`:` and `/` included).

    Lone surrogates U+DC80-U+DCFF are allowed: they are the bytes of an id that another
    program stored as invalid UTF-8, as this library reads it (surrogateescape), so such an
    id can still be addressed.
    """
    return _text("id", value, ID_MAX_LENGTH, "surrogateescape")


def new_user_id(value: object) -> str:
    """An id for a new session: as `user_id`, but valid UTF-8 (what Node reads back)."""
    return _text("id", value, ID_MAX_LENGTH)


def ip(value: object) -> str:
    return _text("ip", value, IP_MAX_LENGTH)


def _seconds(name: str, value: object, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_SECONDS:
        raise ValidationError("invalidValue", message)
    if value > MAX_SECONDS:
        raise ValidationError("invalidValue", f"{name} must be at most {MAX_SECONDS} (10 years)")
    return value


def ttl(value: object) -> int:
    if value is None:
        return DEFAULT_TTL
    return _seconds("ttl", value, "ttl must be a positive integer >= 10")


def delta_time(value: object) -> int:
    return _seconds("deltaTime", value, "deltaTime must be a positive integer >= 10")


def no_resave(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("invalidValue", "no_resave must be a boolean")
    return value


# Python will not write an int of more than 4300 digits as text (sys.int_info), so larger
# ints could never be stored; 14000 bits is about 4214 digits.
MAX_INT_BITS = 14_000


def _allowed(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value.bit_length() <= MAX_INT_BITS
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and _encodable(value)


def d(value: object) -> dict[str, DValue]:
    """A `d` object: a mapping with at least one key, values str/int/float/bool/None."""
    if value is None:
        raise _missing("d")
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValidationError("invalidValue", "d must be an object")
    if not value:
        raise ValidationError("invalidValue", "d must containt at least one key.")
    for key, item in value.items():
        if not _encodable(key) or not _allowed(item):
            raise ValidationError(
                "invalidValue",
                f"d.{key} has a forbidden type. "
                "Only strings, numbers, boolean and null are allowed.",
            )
    return dict(value)


def encode_json(value: Any) -> str:
    """JSON as JavaScript's JSON.stringify writes it: compact, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def too_large_d() -> ValidationError:
    return ValidationError("invalidValue", f"d must be at most {MAX_D_BYTES} bytes as JSON")


def d_text(value: Mapping[str, DValue]) -> str:
    """`d` as the JSON text stored, within MAX_D_BYTES."""
    text = encode_json(value)
    if len(text) > MAX_D_BYTES // 4 and len(text.encode("utf-8")) > MAX_D_BYTES:
        raise too_large_d()
    return text
