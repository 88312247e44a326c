"""The audit log page: kills filtered by operator, app, action, user id and dates; paged; and
the same rows as a CSV download."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from sessions_core.validation import APP_MAX_LENGTH, ID_MAX_LENGTH

from .csv_stream import csv_download
from .forms import errors_text
from .http import HtmxHttpRequest
from .models import KillAudit
from .permissions import VIEW, operator_required
from .render import fragment, fragment_target, page

PAGE_SIZE = 50
# Rows fetched per database round trip while the CSV streams: memory stays flat however many
# rows match.
EXPORT_CHUNK = 2000
CSV_HEADER = [
    "at_utc",
    "operator",
    "action",
    "app",
    "user_id",
    "session_handle",
    "ended",
    "interrupted",
]


class AuditFilter(forms.Form):
    """The audit log's filters, all optional; text fields match exactly, dates are whole days
    in the dashboard's time zone, both ends included."""

    operator = forms.CharField(max_length=150, required=False)
    app = forms.CharField(max_length=APP_MAX_LENGTH, required=False)
    action = forms.ChoiceField(choices=[("", "any"), *KillAudit.Action.choices], required=False)
    # Exactly as typed, like the dashboard's other id fields: ids may hold spaces.
    user_id = forms.CharField(max_length=ID_MAX_LENGTH, required=False, strip=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def rows(self) -> QuerySet[KillAudit]:
        """The matching entries, newest first."""
        data = self.cleaned_data
        rows = KillAudit.objects.all()
        if data["operator"]:
            rows = rows.filter(operator_name=data["operator"])
        if data["app"]:
            rows = rows.filter(app=data["app"])
        if data["action"]:
            rows = rows.filter(action=data["action"])
        if data["user_id"]:
            rows = rows.filter(user_id=data["user_id"])
        if data["since"]:
            rows = rows.filter(at__gte=_start_of(data["since"]))
        if data["until"]:
            rows = rows.filter(at__lt=_start_of(data["until"] + dt.timedelta(days=1)))
        return rows

    def query(self) -> dict[str, str]:
        """The filters in use, as a query string's parameters (empty ones left out)."""
        return {
            name: value.isoformat() if isinstance(value, dt.date) else str(value)
            for name, value in self.cleaned_data.items()
            if value
        }


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _valid_filter(request: HtmxHttpRequest) -> AuditFilter:
    form = AuditFilter(request.GET)
    if not form.is_valid():
        raise BadRequest(errors_text(form))
    return form


def _with_query(url: str, params: dict[str, Any]) -> str:
    return f"{url}?{urlencode(params)}" if params else url


@require_GET
@operator_required(VIEW)
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    form = _valid_filter(request)
    filters = form.query()
    # A page number that is no number, or past the end, shows the nearest page (links to
    # page 3 go stale when filters change).
    page_obj = Paginator(form.rows(), PAGE_SIZE).get_page(request.GET.get("page"))
    base = reverse("dashboard:audit")

    def page_url(number: int) -> str:
        return _with_query(base, {**filters, "page": number} if number > 1 else filters)

    here = page_url(page_obj.number)
    context = {
        "form": form,
        "page_obj": page_obj,
        "filtered": bool(filters),
        "prev_url": page_url(page_obj.number - 1) if page_obj.has_previous() else None,
        "next_url": page_url(page_obj.number + 1) if page_obj.has_next() else None,
        "export_url": _with_query(reverse("dashboard:audit_export"), filters),
    }
    if fragment_target(request, {"audit-table"}):
        response = fragment(request, "dashboard/audit.html#audit-table", context)
        return push_url(response, here)
    return page(request, "dashboard/audit.html", context)


def csv_row(entry: KillAudit) -> tuple[object, ...]:
    """One entry as the export's cells; times in UTC, to the second."""
    return (
        entry.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        entry.operator_name,
        entry.action,
        entry.app,
        entry.user_id,
        entry.session_handle,
        entry.count,
        "yes" if entry.interrupted else "no",
    )


@require_GET
@operator_required(VIEW)
def audit_export(request: HtmxHttpRequest) -> StreamingHttpResponse:
    """Every entry the filters match (not only one page), as CSV, streamed in chunks."""
    form = _valid_filter(request)
    rows = form.rows().iterator(chunk_size=EXPORT_CHUNK)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    # csv_stream neutralises cells a spreadsheet would run as formulas (an operator's name or
    # a user id is text another party chose).
    return csv_download(f"audit-log-{stamp}.csv", CSV_HEADER, (csv_row(e) for e in rows))
