"""/api/v1/openapi.json: a valid OpenAPI 3.1 document describing every route, and every
answer the API gives matches the schema the document states for it."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from api.openapi import document
from api.routes import APP_ROUTES

from .conftest import Api

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def doc(api: Api) -> dict[str, Any]:
    response = api.get("openapi.json", key=None)
    assert response.status_code == 200
    served: dict[str, Any] = response.json()
    return served


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert doc == document()


def test_every_route_is_described_with_its_method_and_parameters(doc: dict[str, Any]) -> None:
    for route in APP_ROUTES.values():
        path = f"/api/v1/{{app}}/{route.operation}" + (f"/{{{route.param}}}" if route.param else "")
        (method,) = doc["paths"][path]
        assert method == route.method.lower()
        operation = doc["paths"][path][method]
        names = {p["name"] for p in operation["parameters"]}
        assert {"app", *([route.param] if route.param else [])} <= names
        assert {"200", "400", "401", "403", "404", "405", "409", "503"} <= set(
            operation["responses"]
        )
        assert operation["security"] == [{"bearer": []}]
    queries = {
        operation["operationId"]: {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        for item in doc["paths"].values()
        for operation in item.values()
        if "parameters" in operation
    }
    assert queries["create"] == {"ip", "ttl"}
    assert queries["activity"] == queries["soapp"] == {"dt"}
    assert doc["paths"]["/api/v1/ping"]["get"]["security"] == []


def schema_for(doc: dict[str, Any], path: str, method: str, status: int) -> Any:
    response = doc["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response["content"]["application/json"]["schema"]


def check(doc: dict[str, Any], path: str, method: str, response: Any) -> None:
    schema = schema_for(doc, path, method, response.status_code)
    Draft202012Validator({**schema, "components": doc["components"]}).validate(response.json())


def test_every_answer_matches_its_documented_schema(
    api: Api, doc: dict[str, Any], redis_server: Any
) -> None:
    base = "/api/v1/{app}"
    token = api.put("shop/create/u1", params={"ip": "1.2.3.4"}, json={"a": 1, "n": None})
    check(doc, f"{base}/create/{{id}}", "put", token)
    t = token.json()["token"]
    api.put("shop/create/u1", params={"ip": "1.2.3.4"}, json={"x": 1})
    cases = [
        (f"{base}/get/{{token}}", "get", api.get(f"shop/get/{t}")),
        (f"{base}/get/{{token}}", "get", api.get("shop/get/" + "z" * 64)),
        (f"{base}/set/{{token}}", "post", api.post(f"shop/set/{t}", json={"b": True})),
        (f"{base}/set/{{token}}", "post", api.post("shop/set/" + "z" * 64, json={"b": 1})),
        (f"{base}/activity", "get", api.get("shop/activity?dt=600")),
        (f"{base}/soapp", "get", api.get("shop/soapp?dt=600")),
        (f"{base}/soid/{{id}}", "get", api.get("shop/soid/u1")),
        (f"{base}/kill/{{token}}", "delete", api.delete(f"shop/kill/{t}")),
        (f"{base}/killsoid/{{id}}", "delete", api.delete("shop/killsoid/u1")),
        (f"{base}/killall", "delete", api.delete("shop/killall")),
        ("/api/v1/ping", "get", api.get("ping")),
        # errors
        (f"{base}/create/{{id}}", "put", api.put("shop/create/u1?ttl=abc&ip=1")),
        (f"{base}/get/{{token}}", "get", api.get("shop/get/x", key=None)),
        (f"{base}/get/{{token}}", "get", api.get("forum/get/x")),
        (f"{base}/get/{{token}}", "get", api.post("shop/get/x")),
        (f"{base}/set/{{token}}", "post", api.post(f"shop/set/{t}", content=b"x" * 60_001)),
    ]
    for path, method, response in cases:
        check(doc, path, method, response)
    statuses = {response.status_code for _, _, response in cases}
    assert statuses == {200, 400, 401, 403, 405, 413}
    redis_server.stop()
    try:
        down = api.get("ping")
    finally:
        redis_server.start()
    check(doc, "/api/v1/ping", "get", down)
    assert down.status_code == 503
