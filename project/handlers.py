"""Django's WSGI handler, with requests that survive any Content-Type charset.

Django's WSGIRequest decodes the query string with the Content-Type's charset whenever Python
knows the codec. A codec that is no text encoding (`charset=rot13`, hex, base64) then raises
LookupError while the request object is being built: before any middleware, so the server
itself answers 500. These requests leave such a charset unset, as Django leaves one it does
not know; the dashboard's middleware then answers with its 400 page. (ASGIRequest reads the
query string as UTF-8 whatever the charset, so the ASGI entry point needs none of this.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import django
from django.core.handlers.wsgi import WSGIHandler as DjangoWSGIHandler
from django.core.handlers.wsgi import WSGIRequest as DjangoWSGIRequest
from django.http import HttpRequest
from django.utils.http import parse_header_parameters


def set_content_type_params(request: HttpRequest, meta: Mapping[str, Any]) -> None:
    """Django's own, but only a text encoding becomes `request.encoding`."""
    request.content_type, request.content_params = parse_header_parameters(
        meta.get("CONTENT_TYPE", "")
    )
    charset = request.content_params.get("charset")
    if charset is None:
        return
    try:
        b"-".decode(charset, "replace")  # not b"": Python returns "" without asking the codec
    except LookupError:  # unknown, or no text encoding: the body is read as UTF-8
        return
    request.encoding = charset


class WSGIRequest(DjangoWSGIRequest):
    def _set_content_type_params(self, meta: Mapping[str, Any]) -> None:
        set_content_type_params(self, meta)


class WSGIHandler(DjangoWSGIHandler):
    request_class = WSGIRequest


def get_wsgi_application() -> WSGIHandler:
    """`django.core.wsgi.get_wsgi_application`, with the requests above."""
    django.setup(set_prefix=False)
    return WSGIHandler()
