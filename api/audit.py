"""Kills through the API in the dashboard's audit log, under the key's name (no account)."""

from __future__ import annotations

import logging

from dashboard.models import KillAudit
from sessions_core.validation import ID_MAX_LENGTH

logger = logging.getLogger("api")


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
    # NUL and invalid UTF-8 cannot go into a database column: stored as escapes, as the
    # dashboard stores them.
    shown_id = user_id.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    KillAudit.objects.create(
        operator=None,
        operator_name=key_name,
        action=action,
        app=app,
        user_id=shown_id.replace("\x00", "\\x00")[:ID_MAX_LENGTH],
        session_handle=handle,
        count=count,
        interrupted=interrupted,
    )
    logger.log(
        logging.WARNING if interrupted else logging.INFO,
        "API key %s: %s app=%s id=%r handle=%s ended=%d%s",
        key_name,
        action,
        app,
        user_id,
        handle,
        count,
        " (interrupted by a Redis fault)" if interrupted else "",
    )
