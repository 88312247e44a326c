"""API keys in /admin/: listed with name, scope, created and last used; revoked there; never
added there and never shown, not even the stored hash."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from api.models import ApiKey, key_digest, new_key

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/api/apikey/"


@pytest.fixture
def admin_client(settings: object) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw"))
    return client


@pytest.fixture
def keys() -> dict[str, str]:
    made = {}
    for name, apps, all_apps in [("deploy", "shop,blog", False), ("ops", "", True)]:
        key = new_key()
        ApiKey.objects.create(name=name, key_hash=key_digest(key), apps=apps, all_apps=all_apps)
        made[name] = key
    return made


def test_the_list_shows_name_scope_and_dates_never_a_key_or_its_hash(
    admin_client: Client, keys: dict[str, str]
) -> None:
    html = admin_client.get(CHANGELIST).content.decode()

    for name in ("deploy", "ops", "shop, blog", "all apps", "Last used", "Created"):
        assert name in html
    for key in keys.values():
        assert key not in html
        assert key_digest(key) not in html
        assert key[:12] not in html


def test_the_change_page_never_shows_the_key_or_its_hash(
    admin_client: Client, keys: dict[str, str]
) -> None:
    stored = ApiKey.objects.get(name="deploy")

    html = admin_client.get(f"{CHANGELIST}{stored.pk}/change/").content.decode()

    assert "deploy" in html
    assert keys["deploy"] not in html
    assert stored.key_hash not in html


def test_keys_are_not_added_in_the_admin(admin_client: Client) -> None:
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_the_revoke_action_deactivates_the_selected_keys(
    admin_client: Client, keys: dict[str, str]
) -> None:
    deploy = ApiKey.objects.get(name="deploy")

    response = admin_client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [deploy.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "1 key(s) revoked." in response.content.decode()
    assert ApiKey.objects.get(name="deploy").is_active is False
    assert ApiKey.objects.get(name="ops").is_active is True


def test_a_key_can_be_deleted(admin_client: Client, keys: dict[str, str]) -> None:
    ops = ApiKey.objects.get(name="ops")

    admin_client.post(f"{CHANGELIST}{ops.pk}/delete/", {"post": "yes"})

    assert not ApiKey.objects.filter(name="ops").exists()


def test_an_app_list_with_a_bad_name_is_refused(admin_client: Client, keys: dict[str, str]) -> None:
    deploy = ApiKey.objects.get(name="deploy")

    response = admin_client.post(
        f"{CHANGELIST}{deploy.pk}/change/",
        {"name": "deploy", "apps": "shop,no way", "is_active": "on"},
    )

    assert response.status_code == 200
    assert "Not an app name: no way" in response.content.decode()
    assert ApiKey.objects.get(name="deploy").apps == "shop,blog"
