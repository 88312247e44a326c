"""The API as a bare ASGI application: route, check the key, call the library, answer JSON.

No framework: the path is split on its raw bytes (so `%2F` in an id or an app stays inside
its part), a request costs one dict lookup to route and one cache lookup for its key, and
every outcome, success or error, is one JSON answer. Django is there for the key model, the
audit log and settings, off the request path (its ORM runs in a thread, on cache misses and
kills only).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import traceback
from urllib.parse import quote

from django.conf import settings
from django.db import Error as DatabaseError

from sessions_core import AsyncRedisSessions, CorruptData, StoreUnavailable, ValidationError

from . import openapi
from .db import Database
from .http import (
    Headers,
    HttpError,
    Receive,
    Scope,
    Send,
    encode,
    header,
    respond,
    segment,
)
from .keys import Grant, KeyChecker
from .routes import APP_ROUTES, Call

logger = logging.getLogger("api")

PREFIX = b"/api/v1/"
# Seconds a client should wait before retrying when Redis or the database is unreachable.
RETRY_AFTER = 5
REALM = b'Bearer realm="redis-sessions"'


def handle_key(secret_key: str) -> bytes:
    """The dashboard's handle key (dashboard/store.py): audit rows written by the API name a
    session by the same handle as the dashboard's pages and rows do."""
    return hmac.new(secret_key.encode(), b"redis-sessions handle", hashlib.sha256).digest()


class ApiApp:
    """`uvicorn api.asgi:app`. One instance per process (and event loop): it owns the
    Redis connection pool, the key cache and the database thread."""

    def __init__(
        self,
        *,
        redis_url: str | None = None,
        namespace: str | None = None,
        key_cache_seconds: float | None = None,
    ) -> None:
        self._redis_url = redis_url or settings.REDIS_URL
        self._namespace = namespace or settings.RS_NAMESPACE
        self._store: AsyncRedisSessions | None = None
        self.db = Database()
        ttl = settings.RS_API_KEY_CACHE_SECONDS if key_cache_seconds is None else key_cache_seconds
        self.keys = KeyChecker(db=self.db, ttl=ttl)
        self._openapi = encode(openapi.document())

    @property
    def store(self) -> AsyncRedisSessions:
        # Built at first use, inside the event loop that serves (lifespan or first request).
        if self._store is None:
            self._store = AsyncRedisSessions(
                url=self._redis_url,
                namespace=self._namespace,
                handle_key=handle_key(settings.SECRET_KEY),
                # Like the dashboard: one retry of a read, a short timeout; a client retries.
                read_retries=1,
                socket_timeout=2.0,
            )
        return self._store

    async def aclose(self) -> None:
        if self._store is not None:
            await self._store.aclose()
            self._store = None
        self.db.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        else:  # websocket: refused before accepting (the server answers 403)
            await send({"type": "websocket.close", "code": 1008})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _ = self.store
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers: Headers | None = None
        try:
            status, body = 200, await self.answer(scope, receive)
        except HttpError as error:
            status, body, headers = error.status, error.body(), error.headers
        except ValidationError as error:
            status, body = 400, encode({"name": error.name, "message": error.message})
        except StoreUnavailable:
            status, body, headers = 503, _unavailable("Redis"), _retry_after()
        except CorruptData as error:
            # Another program's data where a session should be: the request is sound, the
            # stored data is in its way (the dashboard answers a kill-all on it with 409 too).
            # The library's message names what is wrong, never a token.
            status, body = 409, encode({"name": "corruptData", "message": str(error)})
        except DatabaseError:
            status, body, headers = 503, _unavailable("The key database"), _retry_after()
        except Exception as error:
            # Neither the path nor the message: either may hold a token.
            logger.error(
                "Unexpected %s in %s:\n%s",
                type(error).__name__,
                scope.get("method"),
                "".join(traceback.format_tb(error.__traceback__)),
            )
            status, body = 500, encode({"name": "internalError", "message": "Internal error"})
        await respond(send, status, body, headers)

    async def answer(self, scope: Scope, receive: Receive) -> bytes:
        """The body of a successful answer; anything else is raised."""
        # The path as sent, percent-encoding kept (a server without raw_path gets the decoded
        # path encoded again, so that a decoded `%` is not decoded twice).
        raw: bytes = scope.get("raw_path") or quote(scope["path"], safe="/").encode("ascii")
        if not raw.startswith(PREFIX):
            raise _not_found()
        method: str = scope["method"]
        first, slash, rest = raw[len(PREFIX) :].partition(b"/")
        if not slash:
            if first == b"ping":
                _allow(method, "GET")
                return encode(await self.store.ping())
            if first == b"openapi.json":
                _allow(method, "GET")
                return self._openapi
            raise _not_found()
        operation, slash, param = rest.partition(b"/")
        route = APP_ROUTES.get(operation)
        # A route with a parameter needs the slash before it (an empty parameter is the
        # library's "No ... supplied"); a route without one ends at its name.
        if route is None or (route.param is None) == bool(slash):
            raise _not_found()
        _allow(method, route.method)
        grant = await self._grant(scope)
        app = segment(first)
        if not grant.allows_app(app):
            raise HttpError(403, "forbidden", "This API key may not use this app")
        if route.write and grant.read_only:
            raise HttpError(403, "forbidden", "This API key is read-only")
        call = Call(
            store=self.store,
            db=self.db,
            app=app,
            param=segment(param) if slash else "",
            key_name=grant.name,
            scope=scope,
            receive=receive,
        )
        return encode(await route.handler(call))

    async def _grant(self, scope: Scope) -> Grant:
        value = header(scope, b"authorization")
        if value is None:
            raise HttpError(
                401,
                "unauthorized",
                "An API key is needed: Authorization: Bearer <key>",
                [(b"www-authenticate", REALM)],
            )
        scheme, _, key = value.partition(b" ")
        grant = None
        if scheme.lower() == b"bearer":
            grant = await self.keys.grant(key.strip().decode("latin-1"))
        if grant is None:
            raise HttpError(
                401,
                "unauthorized",
                "The API key is not valid",
                [(b"www-authenticate", REALM + b', error="invalid_token"')],
            )
        return grant


def _allow(method: str, allowed: str) -> None:
    if method != allowed:
        raise HttpError(
            405,
            "methodNotAllowed",
            f"Use {allowed} here",
            [(b"allow", allowed.encode("ascii"))],
        )


def _not_found() -> HttpError:
    return HttpError(404, "notFound", "No such route: see /api/v1/openapi.json")


def _unavailable(what: str) -> bytes:
    return encode({"name": "unavailable", "message": f"{what} is unreachable; try again"})


def _retry_after() -> Headers:
    return [(b"retry-after", str(RETRY_AFTER).encode("ascii"))]
