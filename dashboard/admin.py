"""The audit log in Django's admin: read-only, a record of what happened."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import KillAudit


@admin.register(KillAudit)
class KillAuditAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "operator_name", "action", "app", "user_id", "count")
    list_filter = ("action", "app")
    search_fields = ("operator_name", "app", "user_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
