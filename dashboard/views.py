"""The dashboard's pages. Thin: data comes from `pages`, which asks `sessions_core`."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from sessions_core import StoreUnavailable

from . import pages
from .csv_stream import csv_download
from .forms import AppsQuery, EverywhereQuery, TableQuery, UserQuery, errors_text
from .http import HtmxHttpRequest
from .middleware import bad_request
from .permissions import VIEW, operator_required
from .render import fragment, fragment_target, page
from .store import sessions


@require_GET
@operator_required(VIEW)
def apps(request: HtmxHttpRequest) -> HttpResponse:
    query = AppsQuery(request.GET)
    if not query.is_valid():
        raise BadRequest(errors_text(query))
    context = pages.apps_table(*query.order_by())
    if fragment_target(request, {"apps-table"}):
        return fragment(request, "dashboard/apps.html#apps-table", context)
    return page(request, "dashboard/apps.html", context)


def unknown_app(request: HtmxHttpRequest, app: str) -> HttpResponse | None:
    """None for an app that is registered or holds sessions; else a 404 (a typo, a made-up
    name, or an app gone since the page was loaded). An htmx request (a poll, a kill) gets no
    fragment but HX-Refresh: its page reloads and shows the 404 page."""
    if sessions().has_app(app=app):
        return None
    if request.htmx:
        return HttpResponseNotFound(headers={"HX-Refresh": "true"})
    raise Http404(f"No app named {app!r} in this namespace.")


def known_app(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A kill view of a known app only. Checked for logged-in POSTs alone, so the view's own
    answers still come first for everyone else (a 405 page, the login redirect) and an
    anonymous visitor cannot probe app names."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, app: str) -> HttpResponseBase:
        if request.method == "POST" and request.user.is_authenticated:
            missing = unknown_app(request, app)
            if missing:
                return missing
        return view(request, app=app)

    return wrapper


@require_GET
@operator_required(VIEW)
def app(request: HtmxHttpRequest, app: str) -> HttpResponse:
    query = TableQuery(request.GET)
    if not query.is_valid():
        raise BadRequest(errors_text(query))
    missing = unknown_app(request, app)
    if missing:
        return missing
    target = fragment_target(request, {"live", "sessions"})
    context: dict[str, object] = {"app": app}
    if target != "sessions":
        context |= pages.app_live(app)
    if target != "live":
        context |= pages.app_table(app, **query.state())
    if target == "sessions":
        response = fragment(request, "dashboard/app.html#sessions", context)
        if request.htmx.trigger == "sessions":
            return response  # the table's own refresh: the address is already right
        # The address bar follows the table (window, page, search) in its canonical form.
        return push_url(response, str(context["table_url"]))
    if target:
        return fragment(request, f"dashboard/app.html#{target}", context)
    return page(request, "dashboard/app.html", context)


@require_GET
@operator_required(VIEW)
def user(request: HtmxHttpRequest, app: str) -> HttpResponse:
    query = UserQuery(request.GET)
    if not query.is_valid():
        raise BadRequest(errors_text(query))
    missing = unknown_app(request, app)
    if missing:
        return missing
    data = query.cleaned_data
    context = {"app": app, **pages.user_table(app, data["id"], data["page"] or 1)}
    if fragment_target(request, {"user-sessions"}):
        response = fragment(request, "dashboard/user.html#user-sessions", context)
        return push_url(response, str(context["table_url"]))
    return page(request, "dashboard/user.html", context)


@require_GET
@operator_required(VIEW)
def export(request: HtmxHttpRequest, app: str) -> HttpResponseBase:
    """The sessions table (its window, or its search) as a streamed CSV download."""
    query = TableQuery(request.GET)
    if not query.is_valid():
        raise BadRequest(errors_text(query))
    missing = unknown_app(request, app)
    if missing:
        return missing
    state = query.state()
    del state["page"]
    return csv_download(f"{app}-sessions.csv", pages.EXPORT_HEADER, pages.export_rows(app, **state))


@require_GET
@operator_required(VIEW)
def everywhere(request: HtmxHttpRequest) -> HttpResponse:
    """One user id in every app: its sessions grouped by app, and a log-out of every app."""
    query = EverywhereQuery(request.GET)
    if not query.is_valid():
        raise BadRequest(errors_text(query))
    context = pages.everywhere_table(query.cleaned_data["id"])
    if fragment_target(request, {"everywhere"}):
        response = fragment(request, "dashboard/everywhere.html#everywhere", context)
        return push_url(response, str(context["table_url"]))
    return page(request, "dashboard/everywhere.html", context)


@require_GET
@never_cache
def healthz(request: HtmxHttpRequest) -> JsonResponse:
    """For load balancers: is Redis reachable, and how fast. No login, no data."""
    started = time.perf_counter()
    try:
        sessions().ping()
    except StoreUnavailable:
        return JsonResponse({"status": "unavailable", "redis": {"ok": False}}, status=503)
    rtt_ms = round((time.perf_counter() - started) * 1000, 2)
    return JsonResponse({"status": "ok", "redis": {"ok": True, "rtt_ms": rtt_ms}})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused by the CSRF check, in the dashboard's look (Django's own page carries an
    inline style, which the Content-Security-Policy blocks). The reason is logged by Django."""
    detail = (
        "This form was refused because it could not be checked as coming from this dashboard: "
        "the page was open too long, or this browser blocks cookies. Reload the page and try again."
    )
    if getattr(request, "htmx", False):
        return bad_request(request, detail)  # type: ignore[arg-type]
    return render(
        request, "dashboard/problem.html", {"title": "Form refused", "detail": detail}, status=403
    )
