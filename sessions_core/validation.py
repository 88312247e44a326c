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

APP_RE = re.compile(r"[A-Za-z0-9_-]{3,20}", re.ASCII)
TOKEN_RE = re.compile(r"[A-Za-z0-9]{64}", re.ASCII)
# JavaScript's `.` (the original's id and ip rules) matches anything but these.
LINE_BREAKS = re.compile("[\n\r\u2028\u2029]")
DEFAULT_TTL = 7200
MIN_SECONDS = 10


def _missing(item: str) -> ValidationError:
    return ValidationError("missingParameter", f"No {item} supplied")


def _bad_format(item: str) -> ValidationError:
    return ValidationError("invalidFormat", f"Invalid {item} format")


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
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


def _text(item: str, value: object, max_length: int) -> str:
    if value is None or value == "":
        raise _missing(item)
    if (
        not isinstance(value, str)
        or len(value) > max_length
        or LINE_BREAKS.search(value)
        or not _encodable(value)
    ):
        raise _bad_format(item)
    return value


def user_id(value: object) -> str:
    """An id: 1-128 characters of any Unicode but line breaks (`:` and `/` included)."""
    return _text("id", value, 128)


def ip(value: object) -> str:
    return _text("ip", value, 39)


def _seconds(value: object, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_SECONDS:
        raise ValidationError("invalidValue", message)
    return value


def ttl(value: object) -> int:
    if value is None:
        return DEFAULT_TTL
    return _seconds(value, "ttl must be a positive integer >= 10")


def delta_time(value: object) -> int:
    return _seconds(value, "deltaTime must be a positive integer >= 10")


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
