from sessions_core import RedisSessions


def test_create_then_get_returns_the_session(rs: RedisSessions) -> None:
    token = rs.create(app="myapp", id="user1001", ip="192.168.22.58", ttl=3600)["token"]
    session = rs.get(app="myapp", token=token)
    assert session is not None
    assert session["id"] == "user1001"
