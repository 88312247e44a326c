"""`manage.py ensure_admin`: an operator account on first run, its password shown once."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def ensure_admin() -> str:
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def no_admin_env(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    # PBKDF2's deliberate slowness is not under test here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_creates_admin_superuser_with_a_random_password_printed_once() -> None:
    output = ensure_admin()

    match = re.fullmatch(r"Created admin account: admin / (\S{20,})\n", output)
    assert match, output
    user = User.objects.get(username="admin")
    assert user.is_staff and user.is_superuser and user.is_active
    assert authenticate(username="admin", password=match[1]) == user


def test_random_passwords_differ_between_fresh_installs() -> None:
    first = ensure_admin().split(" / ")[1]
    User.objects.all().delete()
    second = ensure_admin().split(" / ")[1]

    assert first != second


def test_second_run_keeps_the_account_and_prints_nothing_secret() -> None:
    password = ensure_admin().split(" / ")[1].strip()

    output = ensure_admin()

    assert "already exists" in output
    assert password not in output
    assert User.objects.count() == 1
    assert authenticate(username="admin", password=password) is not None


def test_username_and_password_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "operator")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct horse battery staple")

    output = ensure_admin()

    assert output == "Created admin account: operator (password from DJANGO_SUPERUSER_PASSWORD)\n"
    assert "correct horse" not in output
    user = authenticate(username="operator", password="correct horse battery staple")
    assert user is not None and user.is_staff
    assert not User.objects.filter(username="admin").exists()


def test_existing_account_keeps_its_password_when_the_environment_names_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    User.objects.create_superuser(username="admin", email="", password="first pass phrase 1")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "second pass phrase 2")

    ensure_admin()

    assert authenticate(username="admin", password="first pass phrase 1") is not None


def test_weak_password_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "admin")

    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD is too weak"):
        ensure_admin()

    assert not User.objects.exists()
