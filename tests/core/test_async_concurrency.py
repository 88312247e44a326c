"""AsyncRedisSessions under an asyncio.gather of more calls than it has connections."""

from __future__ import annotations

import asyncio

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
