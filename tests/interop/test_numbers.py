"""Numbers in `d`: spelled Python's way in Redis, read by Node as the same numbers.

`json.dumps` and `JSON.stringify` spell a few numbers differently (`1e-07` / `1e-7`,
`1.0` / `1`, `-0.0` / `0`); both parse either spelling. JavaScript has one number type, so
integers beyond 2**53 lose precision as soon as Node reads them, and a Node `set` writes
its rounded copy of the whole `d` back.
"""

from __future__ import annotations

import pytest
import redis

from sessions_core import RedisSessions
from sessions_core.types import DValue

from .node_driver import NodeSessions

pytestmark = pytest.mark.interop

APP = "numbers"
SPELLED_DIFFERENTLY: dict[str, DValue] = {"tiny": 1e-7, "whole": 1.0, "huge": 1e21, "sub": 5e-324}


def test_node_reads_python_number_spellings_as_the_same_numbers(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d=SPELLED_DIFFERENTLY)["token"]

    assert (
        r.hget(f"rs:{APP}:{token}", "d") == '{"tiny":1e-07,"whole":1.0,"huge":1e+21,"sub":5e-324}'
    )
    assert node_rs.get(app=APP, token=token)["d"] == SPELLED_DIFFERENTLY


def test_python_reads_node_number_spellings_as_the_same_numbers(
    node_rs: NodeSessions, rs: RedisSessions, r: redis.Redis
) -> None:
    token = node_rs.create(app=APP, id="u1", ip="10.0.0.1", d=SPELLED_DIFFERENTLY)["token"]

    assert r.hget(f"rs:{APP}:{token}", "d") == '{"tiny":1e-7,"whole":1,"huge":1e+21,"sub":5e-324}'
    session = rs.get(app=APP, token=token)
    assert session is not None and session["d"] == SPELLED_DIFFERENTLY


def test_a_node_set_rounds_integers_beyond_2_53_that_python_stored_exactly(
    node_rs: NodeSessions, rs: RedisSessions
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d={"big": 2**53 + 1})["token"]
    before = rs.get(app=APP, token=token)
    assert before is not None and before["d"] == {"big": 2**53 + 1}

    node_rs.set(app=APP, token=token, d={"other": 1})

    after = rs.get(app=APP, token=token)
    assert after is not None and after["d"] == {"big": 2**53, "other": 1}
