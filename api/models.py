"""API keys: a name, a scope (some apps or all of them), read-only or not; stored hashed."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import models

from sessions_core.validation import APP_RE

# A key is this prefix and 32 random bytes in base64url: it can be told apart from other
# secrets in a log or a repository scan, and guessing one is hopeless.
KEY_PREFIX = "rsk_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    """What is stored of a key. A key holds 256 random bits, so a fast hash is enough: a
    slow one (for passwords, which are guessable) would only slow every cache miss."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def app_names(text: str) -> list[str]:
    """`shop, blog` -> ["shop", "blog"]: the names of a key's scope, without blanks."""
    return [name.strip() for name in text.split(",") if name.strip()]


def validate_app_list(text: str) -> None:
    bad = [name for name in app_names(text) if not APP_RE.fullmatch(name)]
    if bad:
        raise ValidationError(f"Not an app name: {', '.join(bad)}")


class ApiKey(models.Model):
    """A bearer key of the REST API. Only its SHA-256 is kept: the key is shown once, by
    `manage.py create_api_key`, and never again."""

    name = models.CharField(max_length=100, unique=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    all_apps = models.BooleanField(default=False, help_text="The key may use every app.")
    apps = models.CharField(
        max_length=2000,
        blank=True,
        validators=[validate_app_list],
        help_text="Comma-separated app names the key may use (when not all apps).",
    )
    read_only = models.BooleanField(
        default=False, help_text="get, activity, soapp and soid only: no create, set or kills."
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Untick to revoke the key (within RS_API_KEY_CACHE_SECONDS).",
    )
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("name",)
        verbose_name = "API key"

    def __str__(self) -> str:
        return self.name

    @property
    def scope(self) -> str:
        return "all apps" if self.all_apps else ", ".join(app_names(self.apps)) or "no app"
