"""Dashboard URLs. Names are stable: browser tests and the bench script use them."""

from __future__ import annotations

from django.urls import path, register_converter

from sessions_core.validation import APP_PATTERN

from . import audit, kills, metrics, views


class AppConverter:
    """An app name as sessions_core accepts it; anything else is a 404."""

    regex = APP_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AppConverter, "app")

app_name = "dashboard"
urlpatterns = [
    path("", views.apps, name="apps"),
    path("apps/<app:app>/", views.app, name="app"),
    path("apps/<app:app>/user/", views.user, name="user"),
    path("apps/<app:app>/export.csv", views.export, name="export"),
    path("apps/<app:app>/kill/session/", views.known_app(kills.kill_session), name="kill_session"),
    path("apps/<app:app>/kill/user/", views.known_app(kills.kill_user), name="kill_user"),
    path("apps/<app:app>/kill/all/", views.known_app(kills.kill_app), name="kill_app"),
    path("users/", views.everywhere, name="everywhere"),
    path("users/kill/", kills.kill_everywhere, name="kill_everywhere"),
    path("audit/", audit.audit_log, name="audit"),
    path("audit/export.csv", audit.audit_export, name="audit_export"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
]
