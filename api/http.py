"""The HTTP side of the API on bare ASGI: errors, JSON answers, the path's segments, query
numbers read as the original reads them, and the body."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

# rest-sessions' body limit (its bodyParser.json({limit: 60000})).
MAX_BODY = 60_000

# Every answer: JSON, never cached (sessions and tokens are in it), never sniffed.
BASE_HEADERS: Headers = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


# One reader and one writer for every request (json.loads and json.dumps with options build
# a new one per call).
_READER = json.JSONDecoder(parse_constant=_no_constant)
_WRITER = json.JSONEncoder(separators=(",", ":"))


class HttpError(Exception):
    """An answer other than success: `{"name", "message"}` with its status and headers.

    Messages are fixed texts or the library's: never a token, a key or a path.
    """

    def __init__(
        self, status: int, name: str, message: str, headers: Headers | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message
        self.headers = headers or []

    def body(self) -> bytes:
        return encode({"name": self.name, "message": self.message})


def encode(value: object) -> bytes:
    """Compact JSON in ASCII: `\\u` escapes keep ids that hold invalid UTF-8 (read by the
    library as lone surrogates) valid JSON, where UTF-8 output would fail on them."""
    return _WRITER.encode(value).encode("ascii")


async def respond(send: Send, status: int, body: bytes, headers: Headers | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                *BASE_HEADERS,
                (b"content-length", str(len(body)).encode("ascii")),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def segment(raw: bytes) -> str:
    """A path segment, percent-decoded as UTF-8; bytes that are not UTF-8 become lone
    surrogates (surrogateescape), which the library reads as the bytes of a foreign id."""
    if b"%" in raw:
        raw = unquote_to_bytes(raw)
    return raw.decode("utf-8", "surrogateescape")


def query(scope: Scope) -> dict[str, str]:
    """The query string's parameters, the first of each name (as parseInt reads an array
    that Express makes of a repeated parameter: `ttl=60&ttl=90` is 60). Read as parse_qsl
    reads it (`+` is a space, a name without `=` has an empty value), in a fraction of its
    time: this is on the path of every create."""
    raw: bytes = scope.get("query_string", b"")
    found: dict[str, str] = {}
    if raw:
        for part in raw.split(b"&"):
            if part:
                name, _, value = part.partition(b"=")
                found.setdefault(_form_decoded(name), _form_decoded(value))
    return found


def _form_decoded(raw: bytes) -> str:
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        raw = unquote_to_bytes(raw)
    return raw.decode("utf-8", "surrogateescape")


# JavaScript's parseInt(text, 10): leading white space (JS's set), a sign, decimal digits;
# whatever follows is ignored ("600s" is 600, "1e3" is 1), and no digit at all is NaN.
_JS_INT = re.compile(
    "[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*([+-]?[0-9]+)"
)
# More digits than this is more than the library's 10-year bound anyway (and int() of a
# 100,000-digit string would be slow).
_MAX_DIGITS = 18


def js_int(text: str | None) -> int | str | None:
    """A query number as the original reads it: None when absent or empty (the library's
    default applies), the integer parseInt finds, else the text itself, which the library
    then refuses with the original's message (`ttl must be a positive integer >= 10`)."""
    if not text:
        return None
    match = _JS_INT.match(text)
    if match is None:
        return text
    digits = match[1]
    if len(digits.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        return -1 if digits.startswith("-") else 10**_MAX_DIGITS
    return int(digits)


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


async def read_body(scope: Scope, receive: Receive) -> bytes:
    """The request body, refused with 413 past MAX_BODY bytes (before reading, when
    Content-Length says so)."""
    length = header(scope, b"content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HttpError(400, "invalidBody", "The request body was cut off")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def too_large() -> HttpError:
    return HttpError(413, "payloadTooLarge", f"The body is over {MAX_BODY} bytes")


def json_body(body: bytes) -> object:
    """The body as JSON (UTF-8, as RFC 8259 requires), or None when there is none. Not JSON:
    400. NaN and Infinity are not JSON (Python's reader would take them); a deep nest is
    refused, not a crash."""
    if not body.strip():
        return None
    try:
        return _READER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise HttpError(400, "invalidFormat", "The body is not JSON") from None


def is_object(value: object) -> bool:
    return isinstance(value, Mapping)
