"""Two ready-made groups for the dashboard's two permission levels."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Session viewers": ["view_sessions"],
    "Session killers": ["view_sessions", "kill_sessions"],
}


def add_groups(apps: Any, schema_editor: Any) -> None:
    # Django creates permissions after the last migration; ours are needed now. The state
    # app config has no models module, which create_permissions takes for "no models".
    config = apps.get_app_config("dashboard")
    config.models_module = True
    create_permissions(config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(
            *permission_model.objects.filter(
                content_type__app_label="dashboard", codename__in=codenames
            )
        )


def remove_groups(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("dashboard", "0001_initial"),
    ]

    operations = [migrations.RunPython(add_groups, remove_groups)]
