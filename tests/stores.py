"""The library's two classes behind one sync face, so one test suite checks both.

The `rs` fixtures of tests/core and tests/interop (`params=KINDS`, then `open_store`) run each
test once with `RedisSessions` and once with `AsyncRedisSessions`, whose coroutines run on an
event loop of their own thread.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any

from sessions_core import AsyncRedisSessions, RedisSessions

_END = object()


class Blocking:
    """An AsyncRedisSessions driven from the sync tests: every coroutine method runs on an
    event loop of its own thread, so the same tests check both classes."""

    def __init__(self, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.store = AsyncRedisSessions(**kwargs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if inspect.isasyncgenfunction(attr):

            def iterate(*args: Any, **kwargs: Any) -> Iterator[Any]:
                items = attr(*args, **kwargs)
                while True:
                    step = asyncio.run_coroutine_threadsafe(anext(items, _END), self._loop)
                    item = step.result()
                    if item is _END:
                        return
                    yield item

            return iterate
        if not inspect.iscoroutinefunction(attr):
            return attr

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return asyncio.run_coroutine_threadsafe(attr(*args, **kwargs), self._loop).result()

        return blocking

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.store.aclose(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Blocking:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


STORES: dict[str, Callable[..., Any]] = {"sync": RedisSessions, "async": Blocking}
KINDS = sorted(STORES)


def open_store(kind: str, url: str, **kwargs: Any) -> Iterator[RedisSessions]:
    """For a conftest's parametrized `rs` fixture: a store of `kind` ("sync" or "async")."""
    store = STORES[kind](url=url, **kwargs)
    yield store
    store.close()
