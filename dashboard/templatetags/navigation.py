"""The main navigation's rules: who is shown a link to Django's admin."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib import admin
from django.http import HttpRequest

register = template.Library()


@register.simple_tag(takes_context=True)
def admin_link_shown(context: dict[str, Any]) -> bool:
    """Whether /admin/ would show this account anything: superusers, and staff holding a
    permission on a model the admin lists (managing accounts, say). The dashboard's own two
    permissions give nothing there, so viewers and killers get no link to an empty page.

    The admin's own rule, asked of the admin: the permissions it reads are the ones the
    dashboard's check already loaded for this request, so this costs no query."""
    request: HttpRequest | None = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not (user.is_active and user.is_staff):
        return False
    return bool(user.is_superuser or admin.site.get_app_list(request))
