"""`soapp_chunks`: the whole window in chunks, in the order of `soapp_page`, each session
once, on every deployment (on a cluster a merge of the app's buckets)."""

from __future__ import annotations

import pytest

from sessions_core import RedisSessions, ValidationError

from .conftest import APP


def backdated(rs: RedisSessions, count: int) -> list[str]:
    """`count` sessions, session i last active i * 7 s ago (ids u0, u1, ...)."""
    made = rs.create_many(app=APP, sessions=[{"id": f"u{i}", "ip": "1"} for i in range(count)])
    tokens = [t["token"] for t in made]
    rs.backdate_many(
        app=APP, sessions=[{"token": t, "id": f"u{i}", "idle": i * 7} for i, t in enumerate(tokens)]
    )
    return tokens


@pytest.mark.parametrize("oldest_first", [False, True])
@pytest.mark.parametrize("chunk", [1, 40, 1000])
def test_the_walk_hands_out_the_window_once_in_page_order(
    rs: RedisSessions, chunk: int, oldest_first: bool
) -> None:
    backdated(rs, 230)
    rs.create(app=APP, id="outside", ip="1", ttl=10)  # in the window too: 231 sessions
    chunks = list(
        rs.soapp_chunks(app=APP, delta_time=10_000, chunk=chunk, oldest_first=oldest_first)
    )
    assert all(1 <= len(rows) <= chunk for rows in chunks)
    walked = [row["session"]["id"] for rows in chunks for row in rows]
    page = rs.soapp_page(
        app=APP, delta_time=10_000, offset=0, limit=1000, oldest_first=oldest_first
    )
    assert walked == [row["session"]["id"] for row in page["rows"]]
    assert len(walked) == len(set(walked)) == 231
    handles = [row["handle"] for rows in chunks for row in rows]
    assert handles == [row["handle"] for row in page["rows"]]


def test_the_walk_keeps_to_the_window(rs: RedisSessions) -> None:
    backdated(rs, 50)  # idle 0, 7, ..., 343 s
    walked = [row for rows in rs.soapp_chunks(app=APP, delta_time=100, chunk=7) for row in rows]
    assert [row["session"]["id"] for row in walked] == [f"u{i}" for i in range(15)]


def test_an_empty_window_gives_no_chunk(rs: RedisSessions) -> None:
    assert list(rs.soapp_chunks(app=APP, delta_time=600)) == []


def test_bad_input_is_refused_before_redis(rs: RedisSessions) -> None:
    with pytest.raises(ValidationError):
        list(rs.soapp_chunks(app="no app", delta_time=600))
    with pytest.raises(ValidationError):
        list(rs.soapp_chunks(app=APP, delta_time=600, chunk=0))
