"""The audit log of kills, and the dashboard's two permissions."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import models

from sessions_core.validation import APP_MAX_LENGTH, ID_MAX_LENGTH

logger = logging.getLogger("dashboard.audit")


class KillAudit(models.Model):
    """One kill action by an operator. Holds a session's handle, never its token."""

    class Action(models.TextChoices):
        KILL = "kill", "session"
        KILLSOID = "killsoid", "log out everywhere"
        KILLALL = "killall", "all sessions of the app"

    # The name is kept as text too, so the log survives the operator account's deletion.
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    operator_name = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    app = models.CharField(max_length=APP_MAX_LENGTH)
    user_id = models.CharField(max_length=ID_MAX_LENGTH, blank=True)
    session_handle = models.CharField(max_length=64, blank=True)
    count = models.PositiveIntegerField()
    # A batched kill (log out everywhere, kill all) cut off by a Redis fault: `count` is what
    # had ended before it; the rest of the sessions were left alone.
    interrupted = models.BooleanField(default=False)

    class Meta:
        ordering = ("-at", "-id")
        # The audit page's filters: each text filter walks its index newest first, as the
        # page is ordered, and a date range on top of it narrows the same walk.
        indexes = [
            models.Index(fields=["operator_name", "-at"], name="killaudit_operator_at"),
            models.Index(fields=["app", "-at"], name="killaudit_app_at"),
            models.Index(fields=["user_id", "-at"], name="killaudit_user_id_at"),
        ]
        default_permissions = ("view",)
        permissions = [
            ("view_sessions", "Can view sessions and the audit log"),
            ("kill_sessions", "Can end sessions"),
        ]

    def __str__(self) -> str:
        cut = ", interrupted" if self.interrupted else ""
        return f"{self.operator_name} {self.action} {self.app} ({self.count}{cut})"

    @classmethod
    def record(
        cls,
        *,
        operator: Any,
        operator_name: str,
        logged_as: str,
        action: str,
        app: str,
        count: int,
        user_id: str = "",
        handle: str = "",
        interrupted: bool = False,
    ) -> KillAudit:
        """One audit row and one log line for a kill, from the dashboard or the REST API. A
        session is named by its handle, never its token; an id's NUL and invalid UTF-8 bytes
        (no database column takes them) are stored as escapes."""
        shown_id = user_id.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        row = cls.objects.create(
            operator=operator,
            operator_name=operator_name,
            action=action,
            app=app,
            user_id=shown_id.replace("\x00", "\\x00")[:ID_MAX_LENGTH],
            session_handle=handle,
            count=count,
            interrupted=interrupted,
        )
        logger.log(
            logging.WARNING if interrupted else logging.INFO,
            "%s: %s app=%s id=%r handle=%s ended=%d%s",
            logged_as,
            action,
            app,
            user_id,
            handle,
            count,
            " (interrupted by a Redis fault)" if interrupted else "",
        )
        return row
