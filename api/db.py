"""The database from async code: Django's ORM is sync, so its calls run in one thread of
their own, each wrapped as Django wraps a request (stale connections closed before and after,
by CONN_MAX_AGE). Only key-cache misses and kill audits come here, never a plain request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from django.db import close_old_connections, connections

P = ParamSpec("P")
T = TypeVar("T")


def _in_request_cycle(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    close_old_connections()
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()


class Database:
    """One worker thread for every ORM call of the API."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-db")

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: _in_request_cycle(function, *args, **kwargs)
        )

    def close(self) -> None:
        """Close the thread's connections, then the thread."""
        self._executor.submit(connections.close_all).result()
        self._executor.shutdown(wait=True)
