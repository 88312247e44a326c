"""`kill_by_handle` ends a session only in the app it is given: a handle of the same id's
session in another app names nothing there, so it ends nothing anywhere."""

from __future__ import annotations

import pytest
import redis

from sessions_core import RedisSessions

from .helpers import snapshot

ID = "u1"


def _create(rs: RedisSessions, app: str) -> str:
    return rs.create(app=app, id=ID, ip="10.0.0.1", ttl=3600)["token"]


@pytest.mark.parametrize(("owner", "asked"), [("blog", "shop"), ("shop", "blog")])
def test_kill_by_handle_with_the_handle_of_another_apps_session_ends_nothing_in_either_app(
    rs: RedisSessions, r: redis.Redis, owner: str, asked: str
) -> None:
    tokens = {app: _create(rs, app) for app in (owner, asked)}
    handle = rs.handle(app=owner, token=tokens[owner])
    before = snapshot(r)

    assert rs.kill_by_handle(app=asked, id=ID, handle=handle) == {"kill": 0}

    assert snapshot(r) == before
    for app, token in tokens.items():
        assert rs.get(app=app, token=token) is not None, f"the {app} session was ended"
    # The handle still ends the session in its own app.
    assert rs.kill_by_handle(app=owner, id=ID, handle=handle) == {"kill": 1}
    assert rs.get(app=owner, token=tokens[owner]) is None
    assert rs.get(app=asked, token=tokens[asked]) is not None
