"""Settings from environment variables: safe development defaults, strict production.

Each case imports the settings in a fresh interpreter with exactly the environment under
test, the way `manage.py` and gunicorn read them.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from .postgres_server import PostgresServer, postgres_bin_dir

BASE_DIR = Path(__file__).resolve().parent.parent
SHOW_SETTINGS = """
import json
from project import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST"),
    "PORT": db.get("PORT"), "USER": db.get("USER"),
    "REDIS_URL": s.REDIS_URL, "RS_NAMESPACE": s.RS_NAMESPACE,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE, "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT, "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "STATICFILES": s.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def clean_env(data_dir: Path, **variables: str) -> dict[str, str]:
    """This process's environment without any project setting, plus `variables`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "RS_")) and k not in {"REDIS_URL", "DATABASE_URL"}
    }
    return env | {"RS_DATA_DIR": str(data_dir)} | variables


def production_env(data_dir: Path, **variables: str) -> dict[str, str]:
    return clean_env(
        data_dir,
        DJANGO_DEBUG="off",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="example.com",
        **variables,
    )


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "manage.py", *args], env)


def settings_under(env: dict[str, str]) -> dict[str, Any]:
    result = run([sys.executable, "-c", SHOW_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def test_debug_off_without_secret_key_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    result = manage("check", env=clean_env(tmp_path, DJANGO_DEBUG="off"))

    assert result.returncode != 0
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("error: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")


def test_check_deploy_is_clean_in_a_production_like_environment(tmp_path: Path) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_defaults_need_no_environment(tmp_path: Path) -> None:
    shown = settings_under(clean_env(tmp_path))

    assert shown["DEBUG"] is True
    assert shown["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]"]
    assert shown["ENGINE"] == "django.db.backends.sqlite3"
    assert shown["NAME"] == str(tmp_path / "db.sqlite3")
    assert shown["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert shown["RS_NAMESPACE"] == "rs"
    assert shown["SESSION_COOKIE_SECURE"] is False


def test_production_is_strict_by_default(tmp_path: Path) -> None:
    shown = settings_under(production_env(tmp_path))

    assert shown["DEBUG"] is False
    assert shown["ALLOWED_HOSTS"] == ["example.com"]
    assert shown["SESSION_COOKIE_SECURE"] is shown["CSRF_COOKIE_SECURE"] is True
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["SECURE_HSTS_SECONDS"] == 31536000
    assert shown["STATICFILES"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_every_variable_is_read_from_the_environment(tmp_path: Path) -> None:
    shown = settings_under(
        clean_env(
            tmp_path,
            DJANGO_DEBUG="on",
            DJANGO_ALLOWED_HOSTS="sessions.example.com,admin.example.com",
            REDIS_URL="rediss://:pw@redis.example.com:6380/2",
            RS_NAMESPACE="myns",
            DATABASE_URL="postgres://dash:secret@db.example.com:5433/sessions",
        )
    )

    assert shown["ALLOWED_HOSTS"] == ["sessions.example.com", "admin.example.com"]
    assert shown["REDIS_URL"] == "rediss://:pw@redis.example.com:6380/2"
    assert shown["RS_NAMESPACE"] == "myns"
    assert (shown["ENGINE"], shown["NAME"]) == ("django.db.backends.postgresql", "sessions")
    assert (shown["HOST"], shown["PORT"], shown["USER"]) == ("db.example.com", 5433, "dash")


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL of our own (initdb + pg_ctl), stopped and deleted afterwards."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        reason = (
            "PostgreSQL's initdb/pg_ctl/postgres not found on PATH or in /usr/lib/postgresql/*/bin "
            "(Debian: apt-get install postgresql; .ci/run does)"
        )
        if running_in_ci():
            pytest.fail(f"CI needs a PostgreSQL for the tests: {reason}")
        pytest.skip(f"!!! POSTGRESQL TEST NOT RUN: {reason}")
    with PostgresServer(bin_dir) as server:
        yield server


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> str:
    """A fresh database on the test PostgreSQL; its URL."""
    name = f"rs_settings_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_server.url(name)


def test_migrate_works_on_postgresql(
    tmp_path: Path, postgres_server: PostgresServer, postgres_database: str
) -> None:
    result = manage("migrate", "--noinput", env=clean_env(tmp_path, DATABASE_URL=postgres_database))

    assert result.returncode == 0, result.stderr
    with psycopg.connect(postgres_database) as conn:
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables")}
        served_from = conn.execute(
            "SELECT inet_server_port(), current_setting('data_directory')"
        ).fetchone()
    assert {"auth_user", "django_migrations", "django_session"} <= tables
    assert served_from == (postgres_server.port, str(postgres_server.data_dir))
    assert not (tmp_path / "db.sqlite3").exists()
