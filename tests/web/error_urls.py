"""The project's URLs plus views that fail, for the error-page tests (ROOT_URLCONF override)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from project.urls import urlpatterns as project_urlpatterns


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


def boom_with_broken_context(request: HttpRequest) -> HttpResponse:
    """A failure that also broke what context processors read (user, messages)."""

    class Broken:
        def __getattr__(self, name: str) -> object:
            raise RuntimeError(f"broken request attribute {name}")

    request.user = Broken()  # type: ignore[assignment]
    request._messages = Broken()  # type: ignore[attr-defined]
    raise RuntimeError("a bug in a view")


urlpatterns = [
    path("boom/", boom),
    path("boom/broken-context/", boom_with_broken_context),
    *project_urlpatterns,
]
