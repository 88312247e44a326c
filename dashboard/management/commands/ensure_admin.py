"""Make sure an operator account exists, so a fresh `make run` can be logged into at once.

The username comes from DJANGO_SUPERUSER_USERNAME (default `admin`), the password from
DJANGO_SUPERUSER_PASSWORD or, when that is unset, `secrets`; a generated password is
printed once, here, and never again. An existing account is left as it is.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

DEFAULT_USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the admin account if it does not exist yet (password printed once)."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or DEFAULT_USERNAME
        given = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Admin account {username!r} already exists; its password is unchanged "
                "(manage.py changepassword to set a new one)."
            )
            return
        password = given or secrets.token_urlsafe(16)
        if given:
            try:
                validate_password(given, User(username=username))
            except ValidationError as error:
                raise CommandError(
                    "DJANGO_SUPERUSER_PASSWORD is too weak: " + " ".join(error.messages)
                ) from None
        User.objects.create_superuser(username=username, email="", password=password)
        if given:
            self.stdout.write(
                f"Created admin account: {username} (password from DJANGO_SUPERUSER_PASSWORD)"
            )
        else:
            self.stdout.write(f"Created admin account: {username} / {password}")
