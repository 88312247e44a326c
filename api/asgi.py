"""The REST API's ASGI entry point, served on its own:

    uvicorn api.asgi:app --host 0.0.0.0 --port $PORT --loop uvloop --http httptools --no-access-log

(the Procfile's `api:` line). Django is set up first, for settings, the key model and the
audit log; the dashboard keeps running on WSGI (`web:`).
"""

from __future__ import annotations

import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()

from . import logs  # noqa: E402  (after setup: these import models)
from .app import ApiApp  # noqa: E402

logs.install()
app = ApiApp()
# Everything loaded so far (Django, the URLconf, the models) lives as long as the process: out
# of the collector's sight, a full collection no longer walks it, which took tens of ms and
# was the API's p99 under load.
gc.freeze()
# A request's objects are freed by reference counting; collections every 700 allocations
# (the default) cost 5-10% of create's throughput in bench/rest.py for nothing.
gc.set_threshold(50_000, 20, 100)
