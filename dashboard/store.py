"""The dashboard's one `RedisSessions`, built from settings; rebuilt when they change."""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from sessions_core import RedisSessions


@cache
def sessions() -> RedisSessions:
    """The process-wide store: one connection pool, handles keyed by SECRET_KEY."""
    handle_key = hmac.new(
        settings.SECRET_KEY.encode(), b"redis-sessions handle", hashlib.sha256
    ).digest()
    return RedisSessions(
        url=settings.REDIS_URL,
        namespace=settings.RS_NAMESPACE,
        handle_key=handle_key,
        read_retries=1,
        socket_timeout=2.0,
    )


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in {"REDIS_URL", "RS_NAMESPACE", "SECRET_KEY"} and sessions.cache_info().currsize:
        sessions().close()
        sessions.cache_clear()
