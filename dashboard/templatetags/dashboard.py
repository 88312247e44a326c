"""Template helpers: human times with exact values on hover, safe links, session data."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def human_duration(seconds: float) -> str:
    """Seconds as the largest unit and the next one: '45 s', '3 min', '2 h 5 min', '3 d 4 h'."""
    total = max(0, int(seconds))
    for i, (name, size) in enumerate(_UNITS):
        if total >= size:
            count, rest = divmod(total, size)
            text = f"{count} {name}"
            # Minutes are exact enough for people: never '3 min 12 s'.
            if name != "min" and i + 1 < len(_UNITS):
                next_name, next_size = _UNITS[i + 1]
                if rest // next_size:
                    text += f" {rest // next_size} {next_name}"
            return text
    return "0 s"


def relative(timestamp: float, now: float) -> str:
    """'3 min ago', 'in 2 h', or 'just now' within two seconds."""
    delta = now - timestamp
    if abs(delta) < 2:
        return "just now"
    return f"{human_duration(delta)} ago" if delta > 0 else f"in {human_duration(-delta)}"


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


@register.simple_tag
def ago(timestamp: float | datetime | None) -> SafeString | str:
    """A <time> reading '3 min ago', with the exact UTC time in its title."""
    if timestamp is None:
        return "never"
    ts = timestamp.timestamp() if isinstance(timestamp, datetime) else float(timestamp)
    exact = iso(ts)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', exact, exact, relative(ts, time.time())
    )


@register.simple_tag
def duration(seconds: float) -> SafeString:
    """A span reading '2 h 5 min', with the exact number of seconds in its title."""
    return format_html('<span title="{} s">{}</span>', int(seconds), human_duration(seconds))


def id_ref(id: str) -> str:
    """An id as an opaque, HTML-safe reference: its bytes in unpadded base64url.

    Forms carry ids this way: a browser turns NUL into U+FFFD in any field, and an id another
    program stored as invalid UTF-8 (read with surrogateescape) has no text form at all.
    """
    raw = id.encode("utf-8", "surrogateescape")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def from_id_ref(ref: str) -> str | None:
    """The id an `id_ref` names, or None when `ref` is no such reference."""
    try:
        raw = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw.decode("utf-8", "surrogateescape") if raw else None


def _textual(id: str) -> bool:
    """Whether an id survives a trip through an HTML form or a URL as plain text."""
    return "\x00" not in id and printable(id) == id


def printable(text: str) -> str:
    """Text safe to render: an invalid UTF-8 byte (a surrogate escape) and NUL become U+FFFD."""
    if text.isascii() and "\x00" not in text:
        return text
    return (
        text.encode("utf-8", "surrogateescape").decode("utf-8", "replace").replace("\x00", "\ufffd")
    )


@register.filter
def isolated(text: str) -> str:
    """Printable text between FSI and PDI: for titles and attributes, where <bdi> cannot go,
    so a right-to-left override inside an id cannot rewrite the words around it."""
    return f"\u2068{printable(text)}\u2069"


@register.simple_tag
def user_url(app: str, id: str, page: int = 1) -> str:
    """The user page of an id; the id travels in the query string, percent-encoded.

    Page 1 is left out of the query string."""
    query = id_query(id) + (f"&page={page}" if page > 1 else "")
    return f"{reverse('dashboard:user', args=[app])}?{query}"


@register.filter
def count(n: int) -> str:
    """A count with thousands separators, '1,234,567': readable at a glance."""
    return f"{int(n):,}"


@register.filter
def id_query(id: str) -> str:
    """`id=<id>` percent-encoded, to follow a user page URL reversed once per table; an id
    that plain text cannot carry goes as `ref=<id_ref>`."""
    return urlencode({"id": id} if _textual(id) else {"ref": id_ref(id)})


@register.filter
def data_items(d: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """A session's `d` as sorted (key, readable value) pairs.

    A filter rather than `d.items` in the template: a key named "items" would shadow it.
    """
    if not d:
        return []
    return [(printable(key), readable(value)) for key, value in sorted(d.items())]


@register.filter
def data_keys(d: Mapping[str, object] | None) -> str:
    return printable(", ".join(sorted(d))) if d else ""


def readable(value: object) -> str:
    """Strings as they are; numbers, booleans, null (and another program's nesting) as JSON."""
    if isinstance(value, str):
        return printable(value)
    return printable(json.dumps(value, ensure_ascii=False))


@register.filter
def at(mapping: Mapping[object, object], key: object) -> object:
    """`mapping[key]` for keys a template cannot spell (numbers), or '' when absent."""
    return mapping.get(key, "")
