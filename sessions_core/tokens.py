"""Session tokens in redis-sessions' 64-character format, from a CSPRNG.

55 characters of `[A-Ya-z0-9]`, then `Z`, then the creation time in ms in base 36, like the
original, whose random part comes from Math.random; ours comes from `secrets`.
"""

from __future__ import annotations

import secrets
import time

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYabcdefghijklmnopqrstuvwxyz0123456789"
RANDOM_LENGTH = 55
TOKEN_LENGTH = 64
# Map each byte below the largest multiple of 61 to a letter; drop the rest, so every letter
# is equally likely (rejection sampling, no modulo bias).
_LIMIT = 256 - 256 % len(ALPHABET)
_TABLE = bytes(ALPHABET[b % len(ALPHABET)] for b in range(_LIMIT)) + bytes(256 - _LIMIT)
_REJECT = bytes(range(_LIMIT, 256))
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, rem = divmod(n, 36)
        out = _DIGITS36[rem] + out
        if n == 0:
            return out


# The last time suffix made: batches create many tokens within one millisecond, and the
# base-36 conversion costs more than the random part. A (ms, suffix) tuple swaps atomically.
_last_suffix: tuple[int, str] = (-1, "")


def _time_suffix() -> str:
    global _last_suffix
    ms = time.time_ns() // 1_000_000
    last = _last_suffix
    if last[0] != ms:
        last = _last_suffix = (ms, "Z" + _base36(ms))
    return last[1]


def new_token(head: str = "") -> str:
    """A fresh token starting with `head` (on a cluster, its bucket); the time suffix keeps
    the length at 64 until the year 5188."""
    random_part = b""
    while len(random_part) < RANDOM_LENGTH:
        random_part += secrets.token_bytes(72).translate(_TABLE, _REJECT)
    suffix = _time_suffix()
    body = random_part[: TOKEN_LENGTH - len(suffix) - len(head)].decode("ascii")
    return head + body + suffix
