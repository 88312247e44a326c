"""The login throttle's settings come from the environment, with safe defaults."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.test_settings import clean_env, manage, run

SHOW = """
import json
from project import settings as s
print(json.dumps({
    "limit": s.AXES_FAILURE_LIMIT,
    "cooloff_s": s.AXES_COOLOFF_TIME.total_seconds(),
    "header": s.CLIENT_IP_HEADER,
    "by": s.AXES_LOCKOUT_PARAMETERS,
}))
"""


def shown(env: dict[str, str]) -> dict[str, object]:
    result = run([sys.executable, "-c", SHOW], env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_ten_failures_and_fifteen_minutes_per_account_and_client_by_default(
    tmp_path: Path,
) -> None:
    assert shown(clean_env(tmp_path)) == {
        "limit": 10,
        "cooloff_s": 900.0,
        "header": "",
        "by": [["username", "ip_address"]],
    }


def test_the_throttle_is_read_from_the_environment(tmp_path: Path) -> None:
    env = clean_env(
        tmp_path,
        DJANGO_LOGIN_FAILURE_LIMIT="5",
        DJANGO_LOGIN_COOLOFF_MINUTES="60",
        DJANGO_CLIENT_IP_HEADER="X-Forwarded-For",
    )
    assert shown(env) | {"by": None} == {
        "limit": 5,
        "cooloff_s": 3600.0,
        "header": "X-Forwarded-For",
        "by": None,
    }


@pytest.mark.parametrize("variable", ["DJANGO_LOGIN_FAILURE_LIMIT", "DJANGO_LOGIN_COOLOFF_MINUTES"])
def test_a_throttle_of_zero_refuses_to_start_in_one_line(tmp_path: Path, variable: str) -> None:
    result = manage("check", env=clean_env(tmp_path, **{variable: "0"}))
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert line.startswith("error: DJANGO_LOGIN_FAILURE_LIMIT and DJANGO_LOGIN_COOLOFF_MINUTES")
