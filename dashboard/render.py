"""Full page or htmx fragment from one template (django-template-partials)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control, patch_vary_headers

from .http import HtmxHttpRequest


def fragment_target(request: HtmxHttpRequest, names: Collection[str]) -> str | None:
    """The partial an htmx request asks for (by its hx-target id), or None for a full page."""
    if not request.htmx or request.htmx.history_restore_request:
        return None
    target = request.htmx.target
    return target if target in names else None


def page(request: HtmxHttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return _private(render(request, template, context))


def fragment(
    request: HtmxHttpRequest, partial: str, context: dict[str, Any], *, with_messages: bool = False
) -> HttpResponse:
    """One partial, plus out-of-band swaps: the Redis banner cleared, and new messages."""
    html = render_to_string(partial, context, request)
    # A fragment that rendered means Redis answered: clear a banner left by an earlier 503.
    html += render_to_string("base.html#banner", {"oob": True}, request)
    if with_messages:
        html += render_to_string("base.html#messages", {"oob": True}, request)
    return _private(HttpResponse(html))


def _private(response: HttpResponse) -> HttpResponse:
    """Session lists are personal data and go stale in seconds: no cache may keep them."""
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    patch_cache_control(response, private=True, no_store=True)
    return response
