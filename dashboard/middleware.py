"""Turn store and input errors into clear pages (or htmx fragments) instead of tracebacks."""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django_htmx.http import reswap, retarget

from sessions_core import CorruptData, KillInterrupted, StoreUnavailable, ValidationError

from .http import HtmxHttpRequest

logger = logging.getLogger(__name__)


class StoreErrorsMiddleware:
    """`StoreUnavailable` -> 503 with a banner; bad input -> 400 (422 for htmx) naming it,
    an undecodable form or query string included; a wrong method -> 405 with a page that says
    which methods the address takes.

    Nothing is cached between requests, so pages recover by themselves once Redis is back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HtmxHttpRequest) -> HttpResponse:
        # Before any view or CSRF check reads request.GET or request.POST: there Django's
        # errors become a bare 400 (or, with DEBUG, a crash of the debug page) or a 500.
        problem = undecodable(request)
        if problem:
            return bad_request(request, problem)
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
            return store_unavailable(request, changed=isinstance(exception, KillInterrupted))
        if isinstance(exception, CorruptData):
            # Another program's key where the layout needs ours (a kill-all of an app whose
            # index is not a sorted set): say so instead of a 500.
            return conflict(request, str(exception))
        if isinstance(exception, ValidationError | BadRequest):
            return bad_request(request, str(exception))
        return None


def undecodable(request: HttpRequest) -> str | None:
    """Why Django cannot decode this request's query string or form, or None.

    Django reads both with the Content-Type's charset whenever Python knows the codec, so one
    that is no text encoding (`charset=rot13`, hex, base64) raised LookupError on the first
    read of request.GET or request.POST: a 500 (`project.handlers` keeps such a charset out
    of `request.encoding`; it is still in `content_params`). A urlencoded form must be UTF-8:
    Django raises BadRequest for `charset=utf-16` and the like from inside the CSRF check,
    where this middleware's process_exception never sees it, and with DEBUG the error page
    itself crashed on re-reading the form.
    """
    charset = (request.content_params or {}).get("charset")
    if charset is None:
        return None
    try:
        codecs.lookup(charset)
    except LookupError:  # unknown to Python: Django ignores it and reads UTF-8
        return None
    try:
        b"-".decode(charset, "replace")  # not b"": Python returns "" without asking the codec
    except LookupError:
        return f"The request's charset {charset!r} is not a text encoding."
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        try:
            request.POST  # noqa: B018 - read for its error; the body is small and read anyway
        except BadRequest as error:
            return str(error)
    return None


def store_unavailable(request: HtmxHttpRequest, *, changed: bool = False) -> HttpResponse:
    """The Redis banner; `changed` when a kill had ended sessions before the fault (its
    message, queued by the kill, says how many)."""
    if request.htmx:
        html = render_to_string("base.html#banner", {"store_error": True}, request)
        if changed:
            html += render_to_string("base.html#messages", {"oob": True}, request)
        response = HttpResponse(html, status=503)
        return reswap(retarget(response, "#unavailable"), "outerHTML")
    response = render(
        request,
        "dashboard/problem.html",
        {"store_error": True, "changed": changed, "title": "Redis is unreachable"},
        status=503,
    )
    response["Retry-After"] = "5"
    return response


def conflict(request: HtmxHttpRequest, detail: str) -> HttpResponse:
    """409: Redis holds another program's data where this action needs ours."""
    detail = f"Nothing was changed: {detail}. Remove or rename that key, then try again."
    if request.htmx:
        messages.error(request, detail)
        response = render(request, "base.html#messages", status=422)  # 422: htmx swaps it
        return reswap(retarget(response, "#messages"), "outerHTML")
    return render(
        request, "dashboard/problem.html", {"title": "Conflict", "detail": detail}, status=409
    )


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
