"""Create a REST API key and print it once, alone on the last line of output."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions_core.validation import APP_RE

from ...models import ApiKey, app_names, key_digest, new_key


class Command(BaseCommand):
    help = (
        "Create an API key for the REST API (/api/v1) and print it once, on the last line. "
        "Only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A unique name; kills are audited under it.")
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--apps", help="Comma-separated app names the key may use.")
        scope.add_argument("--all-apps", action="store_true", help="The key may use every app.")
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="Only get, activity, soapp and soid: no create, set or kills.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name or len(name) > ApiKey._meta.get_field("name").max_length:  # type: ignore[operator]
            raise CommandError("The name must be 1 to 100 characters.")
        if ApiKey.objects.filter(name=name).exists():
            raise CommandError(f"An API key named {name!r} exists already.")
        apps = [] if options["all_apps"] else app_names(options["apps"])
        if not options["all_apps"]:
            if not apps:
                raise CommandError("--apps needs at least one app name.")
            bad = [app for app in apps if not APP_RE.fullmatch(app)]
            if bad:
                raise CommandError(f"Not an app name: {', '.join(bad)}")
        key = new_key()
        created = ApiKey.objects.create(
            name=name,
            key_hash=key_digest(key),
            all_apps=options["all_apps"],
            apps=",".join(dict.fromkeys(apps)),
            read_only=options["read_only"],
        )
        access = "read only" if created.read_only else "read and write"
        self.stdout.write(f"Created API key {name!r} for {created.scope} ({access}).")
        self.stdout.write("Store it now: it is not kept and will not be shown again.")
        self.stdout.write(key)
