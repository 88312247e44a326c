"""The API as production runs it: the Procfile's `api:` line (uvicorn, uvloop, httptools) with
PORT set, a key made by `manage.py create_api_key`, real HTTP; and no token in its output."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from project.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def procfile_line(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        kind, _, command = line.partition(":")
        if kind.strip() == name:
            return command.strip()
    raise AssertionError(f"no {name}: line in the Procfile")


@dataclass
class Served:
    url: str
    key: str
    key_name: str
    log: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def environment(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Production-like settings on a fresh SQLite database, migrated."""
    data = tmp_path_factory.mktemp("api-server")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "RS_")) and k not in {"REDIS_URL", "DATABASE_URL"}
    }
    env |= {
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
        "REDIS_URL": redis_server.url,
        "RS_DATA_DIR": str(data),
        "DJANGO_DEBUG": "off",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def create_key(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.splitlines()[-1]


def serve(command: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["sh", "-c", command],
            cwd=ROOT,
            env=env | {"PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/api/v1/ping", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the API did not start: {log.read_text()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)


@pytest.fixture
def served(
    environment: dict[str, str], redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Served]:
    command = procfile_line("api")
    if getattr(request, "param", "") == "access-log":
        command = command.replace("--no-access-log", "").strip()
    name = f"server-{secrets.token_hex(4)}"
    key = create_key(environment, name, "--apps", "shop")
    log = tmp_path / "api.log"
    process, url = serve(command, environment, log)
    yield Served(url=url, key=key, key_name=name, log=log, env=environment)
    stop(process)


def session_traffic(served: Served) -> list[str]:
    """Every route once over real HTTP, hostile ids included; the tokens it made."""
    headers = {"Authorization": f"Bearer {served.key}"}
    tokens = []
    with httpx.Client(base_url=f"{served.url}/api/v1/shop", headers=headers) as client:
        for user_id in ["a/b:c d", "😀 %25", "<script>"]:
            path = f"create/{quote(user_id, safe='')}"
            made = client.put(path, params={"ip": "10.0.0.1", "ttl": "600"}, json={"k": 1})
            assert made.status_code == 200, made.text
            token = made.json()["token"]
            tokens.append(token)
            assert client.get(f"get/{token}").json()["id"] == user_id
            assert client.post(f"set/{token}", json={"k": None, "v": 2}).json()["d"] == {"v": 2}
            (found,) = client.get(f"soid/{quote(user_id, safe='')}").json()["sessions"]
            assert found["id"] == user_id
        assert client.get("activity", params={"dt": "600"}).json() == {"activity": 3}
        assert len(client.get("soapp", params={"dt": "600"}).json()["sessions"]) == 3
        assert client.delete(f"kill/{tokens[0]}").json() == {"kill": 1}
        assert client.delete(f"killsoid/{quote('😀 %25', safe='')}").json() == {"kill": 1}
        assert client.delete("killall").json() == {"kill": 1}
        # errors over the wire, none a token
        assert client.get(f"get/{tokens[0]}x").status_code == 400
        assert (
            client.get(f"get/{tokens[1]}", headers={"Authorization": "Bearer x"}).status_code == 401
        )
        assert client.get("nope").status_code == 404
        assert client.get(f"{served.url}/api/v1/forum/soid/u1").status_code == 403
        assert client.get(f"kill/{tokens[2]}").status_code == 405
        assert client.post(f"set/{tokens[2]}", content=b"x" * 60_001).status_code == 413
    return tokens


def test_the_procfile_line_serves_every_route_and_logs_no_token(served: Served) -> None:
    tokens = session_traffic(served)

    output = served.log.read_text()
    assert "Application startup complete" in output
    assert "/api/v1/" not in output  # the access log is off
    for token in tokens:
        assert token not in output
    assert served.key not in output


@pytest.mark.parametrize("served", ["access-log"], indirect=True)
def test_with_uvicorns_access_log_on_paths_are_logged_with_tokens_masked(served: Served) -> None:
    tokens = session_traffic(served)

    output = served.log.read_text()
    assert "/api/v1/shop/get/{token}" in output
    assert "/api/v1/shop/kill/{token}" in output
    assert "/api/v1/shop/activity?dt=600" in output
    for token in tokens:
        assert token not in output
    assert served.key not in output


AUDIT_ROWS = """
import django, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()
from dashboard.models import KillAudit
rows = KillAudit.objects.filter(operator_name=sys.argv[1]).order_by("id")
print([(r.operator_id, r.action, r.app, r.count) for r in rows])
"""


def test_kills_over_http_reach_the_audit_log_under_the_keys_name(served: Served) -> None:
    session_traffic(served)

    rows = subprocess.run(
        [sys.executable, "-c", AUDIT_ROWS, served.key_name],
        cwd=ROOT,
        env=served.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    expected = [
        (None, "kill", "shop", 1),
        (None, "killsoid", "shop", 1),
        (None, "killall", "shop", 1),
    ]
    assert rows == str(expected)


def test_redis_down_over_http_is_503_with_retry_after(
    served: Served, redis_server: RedisServer
) -> None:
    headers = {"Authorization": f"Bearer {served.key}"}
    redis_server.stop()
    try:
        down = httpx.get(f"{served.url}/api/v1/shop/soid/u1", headers=headers, timeout=10)
    finally:
        redis_server.start()
    back = httpx.get(f"{served.url}/api/v1/shop/soid/u1", headers=headers, timeout=10)

    assert down.status_code == 503
    assert down.headers["retry-after"] == "5"
    assert down.json() == {"name": "unavailable", "message": "Redis is unreachable; try again"}
    assert back.status_code == 200
