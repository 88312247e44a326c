"""How fresh a live panel is: the time the server rendered it, on every poll."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def updated_at() -> SafeString:
    """'Updated 14:03:05' in the dashboard's time zone: a paused or failing panel shows its
    age. The datetime attribute holds the instant to the millisecond, the title the date and
    zone."""
    now = timezone.localtime()
    return format_html(
        '<p class="updated">Updated <time datetime="{}" title="{}" data-testid="updated-at">'
        "{}</time></p>",
        now.isoformat(timespec="milliseconds"),
        now.strftime("%Y-%m-%d %H:%M:%S %Z"),
        now.strftime("%H:%M:%S"),
    )
