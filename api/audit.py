"""Kills through the API in the dashboard's audit log, under the key's name (no account)."""

from __future__ import annotations

from dashboard.models import KillAudit


def record_kill(
    *,
    key_name: str,
    action: str,
    app: str,
    count: int,
    user_id: str = "",
    handle: str = "",
    interrupted: bool = False,
) -> None:
    """One audit row and one log line; sync (the ORM). A session is named by its handle,
    the dashboard's HMAC of its token, never by the token."""
    KillAudit.record(
        operator=None,
        operator_name=key_name,
        logged_as=f"API key {key_name}",
        action=action,
        app=app,
        count=count,
        user_id=user_id,
        handle=handle,
        interrupted=interrupted,
    )
