"""Bounds: ttl and delta_time at most 10 years, batched killsoid, any iterable for
create_many, and batched kills cut off by a Redis fault report what they ended."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator

import pytest
import redis

from sessions_core import Killed, KillInterrupted, RedisSessions, ValidationError
from sessions_core.validation import MAX_SECONDS

from .conftest import APP
from .helpers import CHANNEL, snapshot

TEN_YEARS = 10 * 365 * 86400


def test_the_documented_bound_is_ten_years() -> None:
    assert MAX_SECONDS == TEN_YEARS


@pytest.mark.parametrize("ttl", [TEN_YEARS + 1, 10**400, 10**4300], ids=["+1s", "1e400", "1e4300"])
def test_ttl_over_ten_years_is_refused_and_nothing_is_written(
    rs: RedisSessions, r: redis.Redis, ttl: int
) -> None:
    message = re.escape(f"ttl must be at most {TEN_YEARS} (10 years)")
    with pytest.raises(ValidationError, match=message) as caught:
        rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=ttl)
    assert caught.value.name == "invalidValue"
    sessions = [{"id": "u1", "ip": "10.0.0.1"}, {"id": "u2", "ip": "10.0.0.1", "ttl": ttl}]
    with pytest.raises(ValidationError, match=message):
        rs.create_many(app=APP, sessions=sessions)  # type: ignore[arg-type]
    assert snapshot(r) == {}


def test_ttl_of_exactly_ten_years_is_stored_and_wiped_when_due(
    rs: RedisSessions, r: redis.Redis
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", ttl=TEN_YEARS)["token"]
    expiry = r.zscore("rs:SESSIONS", f"{APP}:{token}:u1")
    assert expiry is not None and expiry == int(str(r.hget(f"rs:{APP}:{token}", "la"))) + TEN_YEARS


@pytest.mark.parametrize("delta", [TEN_YEARS + 1, 10**400], ids=["+1s", "1e400"])
def test_delta_time_over_ten_years_is_refused(rs: RedisSessions, delta: int) -> None:
    message = re.escape(f"deltaTime must be at most {TEN_YEARS} (10 years)")
    for read in (
        lambda: rs.activity(app=APP, delta_time=delta),
        lambda: rs.soapp(app=APP, delta_time=delta),
        lambda: rs.soapp_page(app=APP, delta_time=delta),
    ):
        with pytest.raises(ValidationError, match=message):
            read()
    assert rs.activity(app=APP, delta_time=TEN_YEARS) == {"activity": 0}


def test_create_many_takes_any_iterable(rs: RedisSessions) -> None:
    made = rs.create_many(app=APP, sessions=({"id": f"u{i}", "ip": "10.0.0.1"} for i in range(3)))
    assert len(made) == 3
    assert [rs.get(app=APP, token=t["token"])["id"] for t in made] == ["u0", "u1", "u2"]  # type: ignore[index]
    assert rs.create_many(app=APP, sessions=iter([])) == []


def _script_calls(r: redis.Redis) -> int:
    stats = r.info("commandstats")
    return sum(
        int(v["calls"]) for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval")
    )


def test_killsoid_of_many_sessions_runs_in_bounded_batches(
    rs: RedisSessions, r: redis.Redis
) -> None:
    rs.create_many(app=APP, sessions=[{"id": "bot", "ip": "10.0.0.1"}] * 2500)
    rs.create(app=APP, id="human", ip="10.0.0.2")
    assert rs.killsoid(app=APP, id="nobody") == {"kill": 0}  # loads the script
    r.config_resetstat()
    assert rs.killsoid(app=APP, id="bot") == {"kill": 2500}
    assert _script_calls(r) == 3  # batches of 1000
    assert r.zcard(f"rs:{APP}:_sessions") == 1
    assert r.zrange(f"rs:{APP}:_users", 0, -1) == ["human"]
    assert r.exists(f"rs:{APP}:us:bot") == 0
    assert r.zcard("rs:SESSIONS") == 1


@pytest.fixture
def paused_mid_kill(redis_url: str, r: redis.Redis) -> Iterator[Callable[..., KillInterrupted]]:
    """Run a batched kill on a store whose Redis is paused once the first batch published:
    the kill must give up with KillInterrupted."""

    def run(kill: Callable[[RedisSessions], Killed]) -> KillInterrupted:
        listener = redis.Redis.from_url(redis_url, decode_responses=True)
        pubsub = listener.pubsub()  # type: ignore[no-untyped-call]
        pubsub.subscribe(CHANNEL)
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        caught: list[BaseException] = []
        with RedisSessions(url=redis_url, read_retries=0, socket_timeout=0.5) as store:

            def target() -> None:
                try:
                    kill(store)
                except BaseException as error:
                    caught.append(error)

            worker = threading.Thread(target=target)
            worker.start()
            assert pubsub.get_message(timeout=10, ignore_subscribe_messages=True) is not None
            r.client_pause(3000, all=False)
            worker.join(timeout=10)
            r.client_unpause()
        pubsub.close()
        listener.close()
        assert len(caught) == 1 and isinstance(caught[0], KillInterrupted), caught
        return caught[0]

    yield run


def test_an_interrupted_killall_reports_the_sessions_it_ended(
    rs: RedisSessions, r: redis.Redis, paused_mid_kill: Callable[..., KillInterrupted]
) -> None:
    for start in range(0, 30_000, 5000):
        rs.create_many(
            app=APP, sessions=[{"id": f"u{i}", "ip": "1"} for i in range(start, start + 5000)]
        )
    error = paused_mid_kill(lambda store: store.killall(app=APP))
    left = r.zcard(f"rs:{APP}:_sessions")
    assert 1000 <= error.killed < 30_000
    # The batch in flight when Redis stopped answering may still have run afterwards.
    assert 30_000 - left - error.killed in (0, 1000)
    assert str(error.killed) in str(error)


def test_an_interrupted_killsoid_reports_the_sessions_it_ended(
    rs: RedisSessions, r: redis.Redis, paused_mid_kill: Callable[..., KillInterrupted]
) -> None:
    for _ in range(6):
        rs.create_many(app=APP, sessions=[{"id": "bot", "ip": "1"}] * 5000)
    error = paused_mid_kill(lambda store: store.killsoid(app=APP, id="bot"))
    left = r.scard(f"rs:{APP}:us:bot")
    assert 1000 <= error.killed < 30_000
    assert 30_000 - left - error.killed in (0, 1000)
