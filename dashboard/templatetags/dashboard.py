"""Template helpers: human times with exact values on hover, safe links, session data."""

from __future__ import annotations

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


@register.simple_tag
def user_url(app: str, id: str, page: int = 1) -> str:
    """The user page of an id; the id travels in the query string, percent-encoded.

    Page 1 is left out of the query string."""
    query = urlencode({"id": id, "page": page}) if page > 1 else id_query(id)
    return f"{reverse('dashboard:user', args=[app])}?{query}"


@register.filter
def count(n: int) -> str:
    """A count with thousands separators, '1,234,567': readable at a glance."""
    return f"{int(n):,}"


@register.filter
def id_query(id: str) -> str:
    """`id=<id>` percent-encoded, to follow a user page URL reversed once per table."""
    return urlencode({"id": id})


@register.filter
def data_items(d: Mapping[str, object] | None) -> list[tuple[str, str]]:
    """A session's `d` as sorted (key, readable value) pairs.

    A filter rather than `d.items` in the template: a key named "items" would shadow it.
    """
    if not d:
        return []
    return [(key, readable(value)) for key, value in sorted(d.items())]


@register.filter
def data_keys(d: Mapping[str, object] | None) -> str:
    return ", ".join(sorted(d)) if d else ""


def readable(value: object) -> str:
    """Strings as they are; numbers, booleans and null as JSON writes them."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


@register.filter
def at(mapping: Mapping[object, object], key: object) -> object:
    """`mapping[key]` for keys a template cannot spell (numbers), or '' when absent."""
    return mapping.get(key, "")
