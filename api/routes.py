"""rest-sessions' routes under /api/v1, each a thin call of `AsyncRedisSessions`.

| route | what |
|---|---|
| `PUT {app}/create/{id}?ip=&ttl=` | JSON object body: `d` |
| `GET {app}/get/{token}` | `{}` when unknown |
| `POST {app}/set/{token}` | JSON object body: changes to `d` |
| `GET {app}/activity?dt=`, `GET {app}/soapp?dt=`, `GET {app}/soid/{id}` | reads |
| `DELETE {app}/kill/{token}`, `{app}/killsoid/{id}`, `{app}/killall` | audited kills |
| `GET ping` | no key |
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sessions_core import AsyncRedisSessions, KillInterrupted, ValidationError

from .audit import record_kill
from .db import Database
from .http import Receive, Scope, is_object, js_int, json_body, query, read_body

logger = logging.getLogger("api")


@dataclass(slots=True)
class Call:
    """One request, routed: the app and the path parameter are percent-decoded."""

    store: AsyncRedisSessions
    db: Database
    app: str
    param: str  # the id or token of the path, "" for routes without one
    key_name: str
    scope: Scope
    receive: Receive

    async def body(self) -> object:
        return json_body(await read_body(self.scope, self.receive))

    def query(self) -> dict[str, str]:
        return query(self.scope)


Handler = Callable[[Call], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Route:
    operation: str
    method: str
    param: str | None  # "id" or "token": the path's last part; None: the path ends at it
    write: bool  # refused to read-only keys
    handler: Handler


def _not_an_object() -> ValidationError:
    # The original's message when `d` is not an object (rest-sessions passes the body as d).
    return ValidationError("invalidValue", "d must be an object")


async def create(call: Call) -> object:
    params = call.query()
    body = await call.body()
    if body is not None and not is_object(body):
        raise _not_an_object()
    # rest-sessions passes the body as d only when it has keys: `{}` creates without d.
    d: Any = body or None
    # Absent or malformed values go to the library as they are: its checks give the
    # original's messages ("No ip supplied", "ttl must be a positive integer >= 10").
    ip: Any = params.get("ip")
    ttl: Any = js_int(params.get("ttl"))
    return await call.store.create(app=call.app, id=call.param, ip=ip, ttl=ttl, d=d)


async def get(call: Call) -> object:
    return await call.store.get(app=call.app, token=call.param) or {}


async def set_(call: Call) -> object:
    d: Any = await call.body()  # None, a non-object or `{}`: the library's own message
    return await call.store.set(app=call.app, token=call.param, d=d) or {}


async def activity(call: Call) -> object:
    dt: Any = js_int(call.query().get("dt"))
    return await call.store.activity(app=call.app, delta_time=dt)


async def soapp(call: Call) -> object:
    dt: Any = js_int(call.query().get("dt"))
    return await call.store.soapp(app=call.app, delta_time=dt)


async def soid(call: Call) -> object:
    return await call.store.soid(app=call.app, id=call.param)


async def kill(call: Call) -> object:
    result = await call.store.kill(app=call.app, token=call.param)
    handle = call.store.handle(app=call.app, token=call.param)
    await _audit(call, "kill", count=result["kill"], handle=handle)
    return result


async def killsoid(call: Call) -> object:
    try:
        result = await call.store.killsoid(app=call.app, id=call.param)
    except KillInterrupted as error:
        await _audit(call, "killsoid", count=error.killed, user_id=call.param, interrupted=True)
        raise
    await _audit(call, "killsoid", count=result["kill"], user_id=call.param)
    return result


async def killall(call: Call) -> object:
    try:
        result = await call.store.killall(app=call.app)
    except KillInterrupted as error:
        await _audit(call, "killall", count=error.killed, interrupted=True)
        raise
    await _audit(call, "killall", count=result["kill"])
    return result


async def _audit(call: Call, action: str, **fields: Any) -> None:
    try:
        await call.db.run(
            record_kill, key_name=call.key_name, action=action, app=call.app, **fields
        )
    except Exception:
        # The sessions are ended whatever the database does: the client gets the result,
        # the operators an error line (with the kill's details, not a token).
        logger.exception(
            "Audit row not written: API key %s %s app=%s %r",
            call.key_name,
            action,
            call.app,
            fields,
        )


# By the path's second part (after the app).
APP_ROUTES: dict[bytes, Route] = {
    route.operation.encode(): route
    for route in (
        Route("create", "PUT", "id", True, create),
        Route("get", "GET", "token", False, get),
        Route("set", "POST", "token", True, set_),
        Route("activity", "GET", None, False, activity),
        Route("soapp", "GET", None, False, soapp),
        Route("soid", "GET", "id", False, soid),
        Route("kill", "DELETE", "token", True, kill),
        Route("killsoid", "DELETE", "id", True, killsoid),
        Route("killall", "DELETE", None, True, killall),
    )
}
