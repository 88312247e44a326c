"""Session tokens in redis-sessions' 64-character format, from a CSPRNG.

55 characters of `[A-Ya-z0-9]`, then `Z`, then the creation time in ms in base 36, like the
original, whose random part comes from Math.random; ours comes from `secrets`.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Sequence

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYabcdefghijklmnopqrstuvwxyz0123456789"
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


# Random letters are drawn 4 KiB of CSPRNG bytes at a time (more for a big batch), per thread:
# one `secrets` call and one translate serve about 70 tokens (a token's own call cost more than
# the rest of a create). A forked child forgets its parent's letters, or both would hand out
# the same tokens.
_letters = threading.local()
_BLOCK = 4096


def _forget_letters() -> None:
    global _letters
    _letters = threading.local()


os.register_at_fork(after_in_child=_forget_letters)


def _random_letters(count: int) -> str:
    pool: str = getattr(_letters, "pool", "")
    start: int = getattr(_letters, "start", 0)
    if len(pool) - start < count:
        pool, start = pool[start:], 0
        while len(pool) < count:  # 61 of 256 byte values are rejected: draw until enough
            wanted = max(_BLOCK, (count - len(pool)) * 5 // 4)
            pool += secrets.token_bytes(wanted).translate(_TABLE, _REJECT).decode("ascii")
        _letters.pool = pool
    _letters.start = start + count
    return pool[start : start + count]


def new_token(head: str = "") -> str:
    """A fresh token starting with `head` (on a cluster, its bucket); the time suffix keeps
    the length at 64 until the year 5188."""
    suffix = _time_suffix()
    return head + _random_letters(TOKEN_LENGTH - len(suffix) - len(head)) + suffix


def new_tokens(count: int, heads: Sequence[str] | None = None) -> list[str]:
    """`count` fresh tokens, the i-th starting with `heads[i]` when given: `new_token` for a
    batch, its letters drawn at once."""
    suffix = _time_suffix()
    size = TOKEN_LENGTH - len(suffix)  # a head takes the place of as many letters
    letters = _random_letters(size * count)
    if heads is None:
        return [letters[at : at + size] + suffix for at in range(0, size * count, size)]
    return [
        head + letters[at + len(head) : at + size] + suffix
        for head, at in zip(heads, range(0, size * count, size), strict=True)
    ]
