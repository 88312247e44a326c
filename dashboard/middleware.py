"""Turn store and input errors into clear pages (or htmx fragments) instead of tracebacks."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget

from sessions_core import StoreUnavailable, ValidationError

from .http import HtmxHttpRequest

logger = logging.getLogger(__name__)


class StoreErrorsMiddleware:
    """`StoreUnavailable` -> 503 with a banner; bad input -> 400 (422 for htmx) naming it;
    a wrong method -> 405 with a page that says which methods the address takes.

    Nothing is cached between requests, so pages recover by themselves once Redis is back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HtmxHttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            return method_not_allowed(request, response)
        return response

    def process_exception(
        self, request: HtmxHttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if isinstance(exception, StoreUnavailable):
            # The message names host and fault only (sessions_core promises no arguments).
            logger.warning("%s %s: %s", request.method, request.path, exception)
            return store_unavailable(request)
        if isinstance(exception, ValidationError | BadRequest):
            return bad_request(request, str(exception))
        return None


def store_unavailable(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx:
        response = render(request, "base.html#banner", {"store_error": True}, status=503)
        return reswap(retarget(response, "#unavailable"), "outerHTML")
    response = render(
        request,
        "dashboard/problem.html",
        {"store_error": True, "title": "Redis is unreachable"},
        status=503,
    )
    response["Retry-After"] = "5"
    return response


def bad_request(request: HtmxHttpRequest, detail: str) -> HttpResponse:
    if request.htmx:
        # 422, not 400: in DEBUG, django-htmx's script replaces the whole page with any 400
        # answer to show Django's error page; a form error belongs in the messages area.
        messages.error(request, detail)
        response = render(request, "base.html#messages", status=422)
        return reswap(retarget(response, "#messages"), "outerHTML")
    return render(
        request, "dashboard/problem.html", {"title": "Bad request", "detail": detail}, status=400
    )


def method_not_allowed(request: HtmxHttpRequest, empty: HttpResponse) -> HttpResponse:
    """Django's bare 405 (from `require_GET`/`require_POST`) as a page, its Allow kept."""
    allowed = empty.get("Allow", "")
    response = render(
        request,
        "dashboard/problem.html",
        {"title": "Method not allowed", "detail": f"This address answers {allowed} only."},
        status=405,
    )
    response["Allow"] = allowed
    return response
