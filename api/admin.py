"""API keys in Django's admin: listed, edited and revoked; never added there (a key is shown
only once, by `manage.py create_api_key`) and never shown, not even in part."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "scope", "read_only", "is_active", "created", "last_used")
    list_filter = ("is_active", "read_only", "all_apps")
    search_fields = ("name", "apps")
    fields = ("name", "all_apps", "apps", "read_only", "is_active", "created", "last_used")
    readonly_fields = ("created", "last_used")
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected keys", permissions=("change",))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(request, f"{count} key(s) revoked.", messages.SUCCESS)
