"""`manage.py create_api_key`: the key printed once, alone on the last line; only its hash kept."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.models import ApiKey, key_digest

pytestmark = pytest.mark.django_db

KEY = re.compile(r"rsk_[A-Za-z0-9_-]{43}")


def create_api_key(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().splitlines()


def test_prints_the_key_on_its_last_line_and_stores_only_its_hash() -> None:
    lines = create_api_key("deploy", "--apps", "shop,blog")

    key = lines[-1]
    assert KEY.fullmatch(key)
    assert lines[:-1] == [
        "Created API key 'deploy' for shop, blog (read and write).",
        "Store it now: it is not kept and will not be shown again.",
    ]
    stored = ApiKey.objects.get(name="deploy")
    assert stored.key_hash == key_digest(key) != key
    assert (stored.apps, stored.all_apps, stored.read_only, stored.is_active) == (
        "shop,blog",
        False,
        False,
        True,
    )
    assert stored.last_used is None
    assert all(key not in str(value) for value in vars(stored).values())


def test_all_apps_and_read_only() -> None:
    lines = create_api_key("auditor", "--all-apps", "--read-only")

    assert lines[0] == "Created API key 'auditor' for all apps (read only)."
    stored = ApiKey.objects.get(name="auditor")
    assert (stored.all_apps, stored.read_only, stored.apps) == (True, True, "")


def test_each_key_is_new() -> None:
    keys = {create_api_key(f"k{i}", "--all-apps")[-1] for i in range(5)}

    assert len(keys) == 5


def test_app_names_are_trimmed_and_deduplicated() -> None:
    create_api_key("tidy", "--apps", " shop , blog,shop,, ")

    assert ApiKey.objects.get(name="tidy").apps == "shop,blog"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x", "--apps", "sh op"], "Not an app name: sh op"),
        (["x", "--apps", "ab,shop"], "Not an app name: ab"),
        (["x", "--apps", " , "], "--apps needs at least one app name."),
        (["", "--all-apps"], "The name must be 1 to 100 characters."),
        (["n" * 101, "--all-apps"], "The name must be 1 to 100 characters."),
    ],
)
def test_refuses_bad_input_and_stores_nothing(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        create_api_key(*args)

    assert not ApiKey.objects.exists()


def test_refuses_a_name_in_use() -> None:
    create_api_key("twice", "--all-apps")

    with pytest.raises(CommandError, match=re.escape("An API key named 'twice' exists already.")):
        create_api_key("twice", "--apps", "shop")
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize("args", [["x"], ["x", "--apps", "shop", "--all-apps"]])
def test_needs_exactly_one_scope(args: list[str]) -> None:
    with pytest.raises(CommandError, match=r"--apps|--all-apps"):
        create_api_key(*args)
