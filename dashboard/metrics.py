"""`GET /metrics`: the sessions' counts and the last wipe pass in Prometheus text format.

Read per scrape, at O(apps) Redis cost (the apps page's reads: no SCAN). Needs
`Authorization: Bearer <RS_METRICS_TOKEN>`; without that setting the endpoint does not exist.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sessions_core import RedisSessions, StoreUnavailable

from .pages import LIVE_WINDOWS
from .store import sessions

WINDOW_LABELS = {60: "1m", 600: "10m", 3600: "1h", 86400: "24h"}
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class SessionsCollector(Collector):
    """The store's counts, read fresh at each scrape."""

    def __init__(self, store: RedisSessions) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        store = self.store
        windows = [w for w, _ in LIVE_WINDOWS]
        stats = store.app_stats(apps=store.apps(), windows=windows)
        live = GaugeMetricFamily("rs_sessions", "Sessions of the app (its index)", labels=["app"])
        users = GaugeMetricFamily("rs_users", "Distinct user ids with sessions", labels=["app"])
        active = GaugeMetricFamily(
            "rs_active_users", "Distinct ids active within the window", labels=["app", "window"]
        )
        unreadable = GaugeMetricFamily(
            "rs_app_unreadable",
            "1 when another program's key hides the app's counts",
            labels=["app"],
        )
        for s in stats:
            if "problem" in s:
                unreadable.add_metric([s["app"]], 1)
                continue
            live.add_metric([s["app"]], s["sessions"])
            users.add_metric([s["app"]], s["users"])
            for window in windows:
                active.add_metric([s["app"], WINDOW_LABELS[window]], s["active"][window])
        yield from (live, users, active, unreadable)
        report = store.last_wipe()
        if report is not None:
            yield GaugeMetricFamily(
                "rs_wipe_last_removed", "Sessions the last wipe pass removed", report["removed"]
            )
            yield GaugeMetricFamily(
                "rs_wipe_last_duration_seconds",
                "Duration of the last wipe pass",
                report["duration"],
            )
            yield GaugeMetricFamily(
                "rs_wipe_last_run_timestamp_seconds",
                "Unix time the last wipe pass started",
                report["started_at"],
            )


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.RS_METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("Unauthorized\n", status=401, content_type=CONTENT_TYPE)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SessionsCollector(sessions()))
    try:
        body = generate_latest(registry)
    except StoreUnavailable:
        response = HttpResponse("Redis is unreachable\n", status=503, content_type=CONTENT_TYPE)
        response["Retry-After"] = "5"
        return response
    return HttpResponse(body, content_type=CONTENT_TYPE)
