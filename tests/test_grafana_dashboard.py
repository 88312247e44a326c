"""deploy/grafana-dashboard.json and deploy/prometheus.yml.example: they parse, and every metric,
label and window they use is one GET /metrics really serves (a scrape of a real store here)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from dashboard.metrics import WINDOW_LABELS
from sessions_core import RedisSessions

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
DASHBOARD = DEPLOY / "grafana-dashboard.json"
TOKEN = "grafana-test-token"
METRIC = re.compile(r"\brs_[a-z_]+\b")
# PromQL words that are not metric names; label names are checked on their own.
SELECTOR = re.compile(r"(rs_[a-z_]+)\{([^}]*)\}")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def panels(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in data["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels inside a collapsed row


def expressions(data: dict[str, Any]) -> list[str]:
    """Every PromQL the dashboard runs: its panels' targets and its query variables."""
    found = [t["expr"] for p in panels(data) for t in p.get("targets", [])]
    for variable in data["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            found.append(query["query"] if isinstance(query, dict) else query)
    return found


@pytest.fixture
def served(settings: Any, redis_settings: Any, rs: RedisSessions, r: redis.Redis) -> str:
    """A real scrape holding every family: two apps, one unreadable, and a wipe pass."""
    settings.RS_METRICS_TOKEN = TOKEN
    rs.create(app="shop", id="u1", ip="10.0.0.1")
    rs.create(app="blog", id="u2", ip="10.0.0.2")
    r.delete("rs:blog:_users")
    r.set("rs:blog:_users", "another program's key")
    rs.wipe_pass()
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return response.content.decode()


def test_the_dashboard_json_parses_and_has_a_prometheus_datasource_variable() -> None:
    data = dashboard()
    assert data["title"] and data["uid"]
    variables = {v["name"]: v for v in data["templating"]["list"]}
    datasource = variables["datasource"]
    assert datasource["type"] == "datasource"
    assert datasource["query"] == "prometheus"
    ids = [p["id"] for p in panels(data)]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in panels(data):
        if panel["type"] == "row":
            continue
        assert panel["title"]
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert panel["targets"], panel["title"]
        for item in (panel, *panel["targets"]):
            assert item["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, item
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == "${datasource}"


def test_every_metric_label_and_window_the_dashboard_queries_is_served(served: str) -> None:
    families = {family.name: family for family in text_string_to_metric_families(served)}
    labels = {
        name: {label for sample in family.samples for label in sample.labels}
        for name, family in families.items()
    }
    data = dashboard()
    queried: set[str] = set()
    for expr in expressions(data):
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
        queried |= set(METRIC.findall(expr))
        for metric, matchers in SELECTOR.findall(expr):
            for label, _op, value in MATCHER.findall(matchers):
                if label == "job":  # Prometheus adds it at scrape time
                    continue
                assert label in labels[metric], f"{metric} has no label {label!r}: {expr}"
                if label == "window" and "$" not in value:
                    assert value in WINDOW_LABELS.values(), expr
    unknown = queried - set(families)
    assert not unknown, f"the dashboard queries metrics /metrics does not serve: {unknown}"
    gauges = {"rs_sessions", "rs_users", "rs_active_users", "rs_app_unreadable"}
    gauges |= {n for n in families if n.startswith("rs_wipe_last_")}
    assert gauges <= queried, f"served but on no panel: {gauges - queried}"

    window = next(v for v in data["templating"]["list"] if v["name"] == "window")
    assert window["query"].split(",") == list(WINDOW_LABELS.values())


def test_the_prometheus_example_scrapes_metrics_with_the_bearer_token() -> None:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((DEPLOY / "prometheus.yml.example").read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    assert job["authorization"]["credentials_file"]
    assert job["static_configs"][0]["targets"]
