"""A session made through the API is used by the Node original and the library, and a Node
session through the API: one layout for all three."""

from __future__ import annotations

import pytest

from sessions_core import RedisSessions
from tests.interop import conftest as interop
from tests.interop.node_driver import NodeDriver, NodeSessions

from .conftest import Api, enc

pytestmark = [pytest.mark.interop, pytest.mark.django_db(transaction=True)]

# The interop suite's Node process (skipped, loudly, without node or node/node_modules).
node_driver = interop.node_driver


@pytest.fixture
def node(
    node_driver: tuple[NodeDriver, NodeSessions, NodeSessions], redis_url: str
) -> NodeSessions:
    """The original without a cache, on the (flushed) test Redis."""
    return node_driver[1]


ODD_ID = "user:42/😀 x"
D = {"s": "é", "n": -7, "x": 0.1, "ok": True}


def test_node_and_the_library_read_change_and_end_an_api_session(
    api: Api, node: NodeSessions, rs: RedisSessions
) -> None:
    token = api.create("shop", ODD_ID, json=D)

    theirs = node.get(app="shop", token=token)
    assert (theirs["id"], theirs["d"], theirs["ip"]) == (ODD_ID, D, "10.0.0.1")
    node.set(app="shop", token=token, d={"from": "node"})
    assert api.get(f"shop/get/{token}").json()["d"] == {**D, "from": "node"}
    assert rs.get(app="shop", token=token)["d"]["from"] == "node"  # type: ignore[index]
    assert node.soid(app="shop", id=ODD_ID)["sessions"][0]["id"] == ODD_ID
    assert node.kill(app="shop", token=token) == {"kill": 1}
    assert api.get(f"shop/get/{token}").json() == {}


def test_the_api_reads_changes_and_ends_a_node_session(api: Api, node: NodeSessions) -> None:
    token = node.create(app="shop", id=ODD_ID, ip="192.168.1.1", ttl=600, d=D)["token"]

    got = api.get(f"shop/get/{token}").json()
    assert (got["id"], got["ip"], got["ttl"], got["d"]) == (ODD_ID, "192.168.1.1", 600, D)
    assert api.post(f"shop/set/{token}", json={"n": None}).json()["d"] == {
        "s": "é",
        "x": 0.1,
        "ok": True,
    }
    assert node.get(app="shop", token=token)["d"] == {"s": "é", "x": 0.1, "ok": True}
    assert api.get("shop/activity", params={"dt": "60"}).json() == {"activity": 1}
    assert api.delete(f"shop/killsoid/{enc(ODD_ID)}").json() == {"kill": 1}
    assert node.get(app="shop", token=token) is None
