"""AsyncRedisSessions under an asyncio.gather of more calls than it has connections."""

from __future__ import annotations

import asyncio

import pytest
import redis

from sessions_core import AsyncRedisSessions
from sessions_core.connect import ASYNC_CONNECTIONS

from .conftest import APP


def test_a_gather_of_many_more_calls_than_connections_all_succeed(
    redis_url: str, r: redis.Redis
) -> None:
    calls = ASYNC_CONNECTIONS * 3

    async def main() -> list[object]:
        async with AsyncRedisSessions(url=redis_url) as rs:
            made = await asyncio.gather(
                *(rs.create(app=APP, id=f"u{i}", ip="10.0.0.1") for i in range(calls))
            )
            tokens = [t["token"] for t in made]
            return list(await asyncio.gather(*(rs.get(app=APP, token=t) for t in tokens)))

    sessions = asyncio.run(main())
    assert len(sessions) == calls and all(s is not None for s in sessions)
    assert r.zcard(f"rs:{APP}:_sessions") == calls


def test_an_instance_refuses_a_second_event_loop_with_a_clear_error(redis_url: str) -> None:
    # redis.asyncio's connections belong to one loop: reused from loop to loop they would never
    # come back to the pool, and after about 100 `asyncio.run` calls every call would fail.
    rs = AsyncRedisSessions(url=redis_url)
    token = asyncio.run(rs.create(app=APP, id="u1", ip="10.0.0.1"))["token"]
    with pytest.raises(RuntimeError, match="create one per event loop"):
        asyncio.run(rs.get(app=APP, token=token))


def test_an_instance_built_outside_any_loop_serves_the_first_loop_it_runs_in(
    redis_url: str,
) -> None:
    rs = AsyncRedisSessions(url=redis_url)

    async def main() -> object:
        token = (await rs.create(app=APP, id="u1", ip="10.0.0.1"))["token"]
        found = await rs.get(app=APP, token=token)
        await rs.aclose()
        return found

    assert asyncio.run(main()) is not None
