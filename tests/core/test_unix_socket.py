"""Both classes on a `unix://` URL (a server on its Unix socket), their cache included."""

from __future__ import annotations

from pathlib import Path

import pytest

from project.redis_server import RedisServer
from tests.stores import KINDS, open_store

from .conftest import APP


@pytest.mark.parametrize("kind", KINDS)
def test_both_classes_work_on_a_unix_socket_url(tmp_path: Path, kind: str) -> None:
    with RedisServer(tmp_path, unix_socket=True) as server:
        stores = open_store(kind, f"unix://{server.socket_path}", cachetime=60)
        rs = next(stores)
        assert rs.cache is not None and rs.cache.subscribed.is_set()
        token = rs.create(app=APP, id="u1", ip="10.0.0.1")["token"]
        assert rs.get(app=APP, token=token)["id"] == "u1"  # type: ignore[index]
        assert rs.get_many(app=APP, tokens=[token])[0] is not None
        assert rs.kill(app=APP, token=token) == {"kill": 1}
        assert rs.get(app=APP, token=token) is None
        next(stores, None)
