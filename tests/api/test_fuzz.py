"""Whatever a client sends, the answer is JSON with a 2xx or 4xx status: never a 500."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.http import query

from .conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)

SAFE = {200, 400, 401, 403, 404, 405, 413}
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ROUTES = ["create", "get", "set", "activity", "soapp", "soid", "kill", "killsoid", "killall"]
METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


def check(response: object) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    assert status in SAFE, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    if status != 200:
        assert set(body) == {"name", "message"}


@FUZZ
@given(
    method=st.sampled_from(METHODS),
    app=st.text(max_size=25),
    route=st.sampled_from(ROUTES),
    param=st.text(max_size=140),
    query=st.dictionaries(st.sampled_from(["ip", "ttl", "dt", "x"]), st.text(max_size=30)),
)
def test_any_path_and_query_is_answered_without_a_500(
    api: Api, method: str, app: str, route: str, param: str, query: dict[str, str]
) -> None:
    path = f"/api/v1/{quote(app, safe='')}/{route}/{quote(param, safe='')}"
    response = api.request(method, path, params=query)

    check(response)


@FUZZ
@given(
    body=st.binary(max_size=300) | json_values.map(lambda v: repr(v).encode()),
    json_body=json_values,
    app=st.sampled_from(["shop", "blog"]),
)
def test_any_body_is_answered_without_a_500(
    api: Api, body: bytes, json_body: object, app: str
) -> None:
    token = "a" * 64
    for method, path in [("PUT", f"{app}/create/u1?ip=1.2.3.4"), ("POST", f"{app}/set/{token}")]:
        check(api.request(method, path, content=body))
        check(api.request(method, path, json=json_body))


@given(raw=st.binary(max_size=60) | st.text(max_size=40).map(str.encode))
def test_the_query_reader_reads_as_parse_qsl_does(raw: bytes) -> None:
    expected: dict[str, str] = {}
    text = raw.decode("utf-8", "surrogateescape")
    for name, value in parse_qsl(text, keep_blank_values=True, errors="surrogateescape"):
        expected.setdefault(name, value)

    assert query({"query_string": raw}) == expected
