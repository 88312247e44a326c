"""Property tests: `d` round trips exactly, the set merge follows a dict model, and every
valid or invalid id and app is handled as the rules say."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions_core import DValue, RedisSessions, ValidationError

from .conftest import APP
from .helpers import snapshot

CORE = settings.get_profile("sessions_core")

# Text that Redis can hold: any code point but lone surrogates (non-BMP included).
text = st.text(st.characters(codec="utf-8"), max_size=20)
values: st.SearchStrategy[DValue] = st.one_of(
    text,
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.booleans(),
)
d_objects = st.dictionaries(text, values, min_size=1, max_size=8)
changes = st.dictionaries(text, st.one_of(st.none(), values), min_size=1, max_size=6)
LINE_BREAKS = re.compile("[\n\r\u2028\u2029]")
valid_ids = st.text(st.characters(codec="utf-8"), min_size=1, max_size=128).filter(
    lambda s: not LINE_BREAKS.search(s)
)
valid_apps = st.from_regex(r"\A[A-Za-z0-9_-]{3,20}\Z")


def _exact(d: Mapping[str, DValue]) -> list[tuple[str, str, str]]:
    """Keys in order, with each value's type and repr: 1 != 1.0 != True, -0.0 != 0.0."""
    return [(key, type(value).__name__, repr(value)) for key, value in d.items()]


def _model_set(d: dict[str, DValue], change: dict[str, DValue | None]) -> dict[str, DValue]:
    """The original's merge: None deletes, replaced keys keep their place, new ones go last."""
    merged = dict(d)
    for key, value in change.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


@CORE
@given(d=d_objects)
def test_d_given_at_create_comes_back_exactly(rs: RedisSessions, d: dict[str, DValue]) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d=d)["token"]
    session = rs.get(app=APP, token=token)
    assert session is not None
    assert _exact(session["d"]) == _exact(d)


@CORE
@given(start=d_objects, steps=st.lists(changes, min_size=1, max_size=4))
def test_set_merges_like_the_original_and_round_trips_exactly(
    rs: RedisSessions, start: dict[str, DValue], steps: list[dict[str, DValue | None]]
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d=start)["token"]
    expected = dict(start)
    for step in steps:
        expected = _model_set(expected, step)
        returned = rs.set(app=APP, token=token, d=step)
        assert returned is not None
        assert _exact(returned.get("d", {})) == _exact(expected)
    session = rs.get(app=APP, token=token)
    assert session is not None
    assert ("d" in session) == bool(expected)
    assert _exact(session.get("d", {})) == _exact(expected)


@CORE
@given(change=changes)
def test_create_drops_none_values_and_keeps_the_rest(
    rs: RedisSessions, r: redis.Redis, change: dict[str, DValue | None]
) -> None:
    token = rs.create(app=APP, id="u1", ip="10.0.0.1", d=change)["token"]
    kept = {k: v for k, v in change.items() if v is not None}
    session = rs.get(app=APP, token=token)
    assert session is not None
    assert _exact(session.get("d", {})) == _exact(kept)
    assert r.hexists(f"rs:myapp:{token}", "d") == bool(kept)


@CORE
@given(id=valid_ids)
def test_any_valid_id_works_through_every_operation(
    rs: RedisSessions, r: redis.Redis, id: str
) -> None:
    token = rs.create(app=APP, id=id, ip="10.0.0.1")["token"]
    session = rs.get(app=APP, token=token)
    assert session is not None and session["id"] == id
    assert [s["id"] for s in rs.soid(app=APP, id=id)["sessions"]] == [id]
    assert rs.killsoid(app=APP, id=id) == {"kill": 1}
    assert r.zcard("rs:SESSIONS") == 0
    assert r.zcard(f"rs:{APP}:_users") == 0
    assert not r.exists(f"rs:{APP}:us:{id}")


@CORE
@given(
    id=st.one_of(
        st.text(min_size=129, max_size=200),
        st.tuples(text, st.sampled_from("\n\r\u2028\u2029"), text).map("".join),
    )
)
def test_invalid_ids_are_refused_and_nothing_is_written(
    rs: RedisSessions, r: redis.Redis, id: str
) -> None:
    before = snapshot(r)
    with pytest.raises(ValidationError) as caught:
        rs.create(app=APP, id=id, ip="10.0.0.1")
    assert (caught.value.name, caught.value.message) == ("invalidFormat", "Invalid id format")
    assert snapshot(r) == before


@CORE
@given(app=valid_apps)
def test_any_valid_app_works(rs: RedisSessions, app: str) -> None:
    token = rs.create(app=app, id="u1", ip="10.0.0.1")["token"]
    assert rs.get(app=app, token=token) is not None
    assert app in rs.apps()
    assert rs.kill(app=app, token=token) == {"kill": 1}


@CORE
@given(
    app=st.text(min_size=1, max_size=30).filter(lambda s: not re.fullmatch(r"[\w-]{3,20}", s, re.A))
)
def test_invalid_apps_are_refused_with_invalid_app_format(
    rs: RedisSessions, r: redis.Redis, app: str
) -> None:
    before = snapshot(r)
    with pytest.raises(ValidationError) as caught:
        rs.create(app=app, id="u1", ip="10.0.0.1")
    assert (caught.value.name, caught.value.message) == ("invalidFormat", "Invalid app format")
    assert snapshot(r) == before


@CORE
@given(
    bad=st.one_of(
        st.lists(values, max_size=2),
        st.dictionaries(text, values, max_size=2),
        st.binary(max_size=4),
        st.sampled_from([float("nan"), float("inf"), float("-inf")]),
        st.tuples(values),
    )
)
def test_values_of_a_forbidden_type_are_refused(
    rs: RedisSessions, r: redis.Redis, token: str, bad: object
) -> None:
    before = snapshot(r)
    with pytest.raises(ValidationError) as caught:
        rs.set(app=APP, token=token, d={"ok": 1, "bad": bad})  # type: ignore[dict-item]
    assert caught.value.message == (
        "d.bad has a forbidden type. Only strings, numbers, boolean and null are allowed."
    )
    assert snapshot(r) == before
