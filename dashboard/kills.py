"""Kill actions: POST only, CSRF-checked, audited; answer with the updated fragment.

Without JavaScript a kill redirects back to the page it came from, with a message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from sessions_core import KillInterrupted

from . import pages
from .forms import (
    KillAppForm,
    KillEverywhereForm,
    KillSessionForm,
    KillUserForm,
    TableQuery,
    errors_text,
)
from .http import HtmxHttpRequest
from .models import KillAudit
from .permissions import KILL, operator_required
from .render import fragment
from .store import sessions
from .templatetags.dashboard import user_url

logger = logging.getLogger(__name__)

# htmx event that makes the live counts of a page refresh themselves after a kill.
SESSIONS_CHANGED = "sessions-changed"


@require_POST
@operator_required(KILL)
def kill_session(request: HtmxHttpRequest, app: str) -> HttpResponse:
    """End one session, addressed by its handle (never its token)."""
    form = _valid(KillSessionForm(request.POST))
    id, handle = form.cleaned_data["id"], form.cleaned_data["handle"]
    count = sessions().kill_by_handle(app=app, id=id, handle=handle)["kill"]
    _record(request, KillAudit.Action.KILL, app=app, user_id=id, handle=handle, count=count)
    return _answer(request, app, form, back=form.cleaned_data["back"] or "app")


@require_POST
@operator_required(KILL)
def kill_user(request: HtmxHttpRequest, app: str) -> HttpResponse:
    """Log one user id out everywhere in the app (killsoid)."""
    form = _valid(KillUserForm(request.POST))
    id = form.cleaned_data["id"]
    with _audited(request, KillAudit.Action.KILLSOID, app=app, user_id=id) as ended:
        ended.append(sessions().killsoid(app=app, id=id)["kill"])
    return _answer(request, app, form, back=form.cleaned_data["back"] or "user")


@require_POST
@operator_required(KILL)
def kill_app(request: HtmxHttpRequest, app: str) -> HttpResponse:
    """End every session of the app (killall), once the operator typed its name."""
    form = _valid(KillAppForm(request.POST, app=app))
    with _audited(request, KillAudit.Action.KILLALL, app=app) as ended:
        ended.append(sessions().killall(app=app)["kill"])
    return _answer(request, app, form, back="app")


@require_POST
@operator_required(KILL)
def kill_everywhere(request: HtmxHttpRequest) -> HttpResponse:
    """Log one user id out of every app (killsoid in each), audited per app."""
    form = _valid(KillEverywhereForm(request.POST))
    id = form.cleaned_data["id"]
    try:
        ended = sessions().killsoid_everywhere(id=id)
    except KillInterrupted as error:
        for app, count in error.per_app.items():
            _record(
                request,
                KillAudit.Action.KILLSOID,
                app=app,
                user_id=id,
                count=count,
                interrupted=True,
                quiet=True,
            )
        messages.error(
            request,
            f"{error.killed:,} sessions ended before Redis failed; "
            "the others were not. Try again once Redis is back.",
        )
        raise
    for app, count in ended.items():
        _record(request, KillAudit.Action.KILLSOID, app=app, user_id=id, count=count, quiet=True)
    total = sum(ended.values())
    text = f"{total:,} session{'' if total == 1 else 's'} ended in {len(ended)} app"
    text += "" if len(ended) == 1 else "s"
    messages.add_message(request, messages.SUCCESS if total else messages.WARNING, text)
    return _everywhere(request, id)


def _everywhere(request: HtmxHttpRequest, id: str) -> HttpResponse:
    if not request.htmx:
        return redirect(pages.everywhere_url(id))
    context = pages.everywhere_table(id)
    response = fragment(
        request, "dashboard/everywhere.html#everywhere", context, with_messages=True
    )
    return trigger_client_event(response, SESSIONS_CHANGED)


def _valid(form: Any) -> Any:
    if not form.is_valid():
        raise BadRequest(errors_text(form))
    return form


@contextmanager
def _audited(
    request: HtmxHttpRequest, action: KillAudit.Action, *, app: str, user_id: str = ""
) -> Iterator[list[int]]:
    """Audit a batched kill: the count the block appends, or, when Redis fails part-way,
    what had ended before the fault (then the fault goes on to the 503 page)."""
    ended: list[int] = []
    try:
        yield ended
    except KillInterrupted as error:
        _record(request, action, app=app, user_id=user_id, count=error.killed, interrupted=True)
        raise
    _record(request, action, app=app, user_id=user_id, count=ended[0])


def _record(
    request: HtmxHttpRequest,
    action: KillAudit.Action,
    *,
    app: str,
    count: int,
    user_id: str = "",
    handle: str = "",
    interrupted: bool = False,
    quiet: bool = False,
) -> None:
    """Write the audit row and the log line; unless `quiet`, tell the operator the count."""
    operator = request.user
    name = operator.get_username()
    KillAudit.record(
        operator=operator if operator.is_authenticated else None,
        operator_name=name,
        logged_as=name,
        action=action,
        app=app,
        count=count,
        user_id=user_id,
        handle=handle,
        interrupted=interrupted,
    )
    if quiet:
        return
    text = f"{count:,} session{'' if count == 1 else 's'} ended"
    if interrupted:
        text += " before Redis failed; the others were not. Try again once Redis is back."
        messages.error(request, text)
        return
    messages.add_message(request, messages.SUCCESS if count else messages.WARNING, text)


def _answer(request: HtmxHttpRequest, app: str, form: TableQuery, *, back: str) -> HttpResponse:
    """The page the kill came from: its fragment for htmx, else a redirect to it."""
    data = form.cleaned_data
    if back == "everywhere" and data.get("id"):
        return _everywhere(request, data["id"])
    if back == "user" and data.get("id"):
        page = data.get("page") or 1
        if not request.htmx:
            return redirect(user_url(app, data["id"], page))
        context = {"app": app, **pages.user_table(app, data["id"], page)}
        response = fragment(
            request, "dashboard/user.html#user-sessions", context, with_messages=True
        )
    else:
        state = form.state()
        if not request.htmx:
            return redirect(pages.table_url(app, **state))
        context = {"app": app, **pages.app_table(app, **state)}
        response = fragment(request, "dashboard/app.html#sessions", context, with_messages=True)
    return trigger_client_event(response, SESSIONS_CHANGED)
