"""Login throttling with django-axes: the pieces axes' settings name.

After `AXES_FAILURE_LIMIT` failed logins for one account from one client, that pair is refused,
the right password included, until `AXES_COOLOFF_TIME` has passed without another try (axes
restarts the cool-off on each refused try, so "try again in N minutes" holds when shown).
Failures and lockouts live in the database (axes' AccessAttempt, listed in /admin/).
"""

from __future__ import annotations

import math
from typing import Any

from axes.backends import AxesStandaloneBackend  # type: ignore[import-untyped]
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


class LoginThrottleBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """Axes' lockout check, for logins over HTTP only.

    `authenticate()` without a request (the shell, a management command) has no client to
    throttle; axes would raise instead.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)  # type: ignore[no-any-return]


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind a proxy the last address of the header
    named by CLIENT_IP_HEADER (the one that proxy appended; earlier ones are the client's
    word)."""
    header: str = settings.CLIENT_IP_HEADER
    if header:
        key = "HTTP_" + header.upper().replace("-", "_")
        forwarded = str(request.META.get(key, "")).split(",")[-1].strip()
        if forwarded:
            return forwarded
    remote: str | None = request.META.get("REMOTE_ADDR")
    return remote


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any]
) -> HttpResponse:
    """The login page again, with the lockout said plainly (429 Too Many Requests)."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    username = (credentials or {}).get("username", "")
    context = {
        "form": AdminAuthenticationForm(request, initial={"username": username}),
        "next": _next(request),
        "locked_out_minutes": minutes,
    }
    return render(request, "registration/login.html", context, status=429)


def _next(request: HttpRequest) -> str:
    """Where to go after logging in: the form's `next` when it is ours; the admin for its login."""
    wanted = request.POST.get("next") or request.GET.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    admin = reverse("admin:index")
    return admin if request.path.startswith(admin) else ""
