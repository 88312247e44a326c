"""AsyncRedisSessions' single script calls share one kept connection (sessions_core/autopipe.py):
a gather goes out together on it, every caller gets its own reply, an error reply or a
cancelled caller leaves the others alone, and a fault fails only the calls in flight."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis

from sessions_core import AsyncRedisSessions, CorruptData, StoreUnavailable

from .conftest import APP


def clients_of(r: redis.Redis, name: str) -> int:
    return sum(1 for client in r.client_list() if client.get("name") == name)


def test_a_gather_of_gets_uses_one_connection_and_each_caller_gets_its_session(
    redis_url: str, r: redis.Redis
) -> None:
    async def main() -> list[object]:
        async with AsyncRedisSessions(url=f"{redis_url}?client_name=auto") as rs:
            made = await rs.create_many(
                app=APP, sessions=[{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(1000)]
            )
            before = r.info("stats")["total_connections_received"]
            sessions = await asyncio.gather(*(rs.get(app=APP, token=t["token"]) for t in made))
            assert r.info("stats")["total_connections_received"] - before == 0
            assert clients_of(r, "auto") <= 2  # the kept connection (and the pool's one)
            return list(sessions)

    sessions = asyncio.run(main())
    assert [s["id"] for s in sessions] == [f"u{i}" for i in range(1000)]  # type: ignore[index]


def test_an_error_reply_fails_its_call_only(redis_url: str, r: redis.Redis) -> None:
    async def main() -> list[object]:
        async with AsyncRedisSessions(url=redis_url) as rs:
            good = (await rs.create(app=APP, id="u1", ip="10.0.0.1"))["token"]
            bad = (await rs.create(app=APP, id="u2", ip="10.0.0.1"))["token"]
            r.delete(f"rs:{APP}:{bad}")
            r.set(f"rs:{APP}:{bad}", "another program's string")
            calls = [rs.get(app=APP, token=t) for t in (good, bad, good)]
            return list(await asyncio.gather(*calls, return_exceptions=True))

    first, middle, last = asyncio.run(main())
    assert isinstance(middle, CorruptData)
    assert first["id"] == last["id"] == "u1"  # type: ignore[index]


def test_cancelled_callers_leave_the_replies_in_step(redis_url: str) -> None:
    async def main() -> tuple[int, list[object]]:
        async with AsyncRedisSessions(url=redis_url) as rs:
            made = await rs.create_many(
                app=APP, sessions=[{"id": f"u{i}", "ip": "10.0.0.1"} for i in range(200)]
            )
            tokens = [t["token"] for t in made]
            tasks = [asyncio.ensure_future(rs.get(app=APP, token=t)) for t in tokens]
            await asyncio.sleep(0)  # every get is queued or written
            for task in tasks[::2]:
                task.cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            cancelled = sum(isinstance(d, asyncio.CancelledError) for d in done)
            after = await asyncio.gather(*(rs.get(app=APP, token=t) for t in tokens))
            return cancelled, list(after)

    cancelled, after = asyncio.run(main())
    assert cancelled > 0
    assert [s["id"] for s in after] == [f"u{i}" for i in range(200)]  # type: ignore[index]


def test_a_dropped_connection_fails_the_calls_in_flight_and_the_next_call_reconnects(
    redis_url: str, r: redis.Redis
) -> None:
    def queued_in_redis() -> None:
        """Wait until the paused server holds the gets (the first parsed, the rest queued)."""
        deadline = time.monotonic() + 5
        while not any(c.get("name") == "victim" and int(c["qbuf"]) > 0 for c in r.client_list()):
            assert time.monotonic() < deadline, "the gets never reached Redis"
            time.sleep(0.005)  # polling the server: it signals nothing

    async def main() -> tuple[list[Any], Any]:
        async with AsyncRedisSessions(url=f"{redis_url}?client_name=victim", read_retries=0) as rs:
            token = (await rs.create(app=APP, id="u1", ip="10.0.0.1"))["token"]
            r.client_pause(5000, all=False)  # the gets (scripts that write) wait in Redis
            calls = asyncio.gather(
                *(rs.get(app=APP, token=token) for _ in range(50)), return_exceptions=True
            )
            await asyncio.to_thread(queued_in_redis)  # meanwhile the loop writes the gets
            r.client_kill_filter(_type="normal", skipme=True)
            r.client_unpause()
            failed = list(await calls)
            return failed, await rs.get(app=APP, token=token)

    failed, after = asyncio.run(main())
    assert failed and all(isinstance(f, StoreUnavailable) for f in failed), failed
    assert after is not None and after["id"] == "u1"


@pytest.mark.parametrize("calls", [1, 3])
def test_awaited_calls_one_after_another_each_get_their_reply(redis_url: str, calls: int) -> None:
    async def main() -> list[object]:
        async with AsyncRedisSessions(url=redis_url) as rs:
            tokens = [(await rs.create(app=APP, id=f"u{i}", ip="1"))["token"] for i in range(calls)]
            return [await rs.get(app=APP, token=t) for t in tokens]

    assert [s["id"] for s in asyncio.run(main())] == [f"u{i}" for i in range(calls)]  # type: ignore[index]
