"""Who may use the dashboard: active staff accounts holding the right permission."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from .http import HtmxHttpRequest

VIEW = "dashboard.view_sessions"
KILL = "dashboard.kill_sessions"

View = Callable[..., HttpResponseBase]


def operator_required(perm: str) -> Callable[[View], View]:
    """Anonymous -> login page; logged in but not staff or lacking `perm` -> 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HtmxHttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return _to_login(request)
            if not (user.is_active and user.is_staff and user.has_perm(perm)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _to_login(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx:
        # A fragment request from an expired login: reload the whole page on the login form
        # rather than swapping the form into a table cell.
        here = request.htmx.current_url_abs_path or "/"
        login = redirect_to_login(here, resolve_url(settings.LOGIN_URL))
        return HttpResponseClientRedirect(login.url)
    return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
