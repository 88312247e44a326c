"""The OpenAPI 3.1 document served at /api/v1/openapi.json: every route, parameter, answer
and error. Built from the same rules as the library (app pattern, lengths, bounds)."""

from __future__ import annotations

from typing import Any

from sessions_core.validation import (
    APP_PATTERN,
    DEFAULT_TTL,
    ID_MAX_LENGTH,
    IP_MAX_LENGTH,
    MAX_D_BYTES,
    MAX_SECONDS,
    MIN_SECONDS,
)

from .http import MAX_BODY
from .routes import APP_ROUTES

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> Schema:
    return {"$ref": f"#/components/responses/{description}"}


D_VALUE: Schema = {"type": ["string", "number", "boolean", "null"]}

SCHEMAS: dict[str, Schema] = {
    "Session": {
        "type": "object",
        "description": "A session as redis-sessions 4.0.0 returns it.",
        "required": ["id", "r", "w", "ttl", "idle", "ip"],
        "properties": {
            "id": {"type": "string", "description": "The user id."},
            "r": {"type": "integer", "description": "Reads, before this one."},
            "w": {"type": "integer", "description": "Writes."},
            "ttl": {
                "type": "integer",
                "description": "Seconds; with no_resave, the seconds left.",
            },
            "idle": {"type": "integer", "description": "Seconds since the last activity."},
            "ip": {"type": "string"},
            "d": {
                "type": "object",
                "description": "The session's data; absent when it holds no key.",
                "additionalProperties": D_VALUE,
            },
            "no_resave": {"const": True, "description": "Present only when set."},
        },
        "additionalProperties": False,
    },
    "SessionOrEmpty": {
        "description": "The session, or `{}` when the token is unknown or timed out.",
        "anyOf": [_ref("Session"), {"type": "object", "maxProperties": 0}],
    },
    "Sessions": {
        "type": "object",
        "required": ["sessions"],
        "properties": {"sessions": {"type": "array", "items": _ref("Session")}},
        "additionalProperties": False,
    },
    "Token": {
        "type": "object",
        "required": ["token"],
        "properties": {"token": {"type": "string", "pattern": "^[A-Za-z0-9]{64}$"}},
        "additionalProperties": False,
    },
    "Killed": {
        "type": "object",
        "required": ["kill"],
        "properties": {"kill": {"type": "integer", "minimum": 0}},
        "additionalProperties": False,
    },
    "Activity": {
        "type": "object",
        "required": ["activity"],
        "properties": {"activity": {"type": "integer", "minimum": 0}},
        "additionalProperties": False,
    },
    "D": {
        "type": "object",
        "description": f"String keys; values strings, numbers, booleans or null. At most "
        f"{MAX_D_BYTES} bytes as JSON once stored.",
        "additionalProperties": D_VALUE,
    },
    "Error": {
        "type": "object",
        "required": ["name", "message"],
        "properties": {
            "name": {
                "type": "string",
                "description": "The original's `missingParameter`, `invalidFormat`, "
                "`invalidValue` for bad input; else `unauthorized`, `forbidden`, `notFound`, "
                "`methodNotAllowed`, `payloadTooLarge`, `invalidBody`, `corruptData`, "
                "`unavailable`, `internalError`.",
            },
            "message": {"type": "string"},
        },
        "additionalProperties": False,
        "example": {"name": "invalidFormat", "message": "Invalid app format"},
    },
}

RESPONSES: dict[str, Schema] = {
    "BadRequest": _json(
        _ref("Error"),
        "Bad input, with the original's name and message (e.g. `invalidFormat` / `Invalid "
        "app format`, `invalidValue` / `ttl must be a positive integer >= 10`), or a body "
        "that is not JSON (`invalidFormat` / `The body is not JSON`).",
    ),
    "Unauthorized": {
        **_json(_ref("Error"), "No key, or a key that is unknown or revoked."),
        "headers": {
            "WWW-Authenticate": {
                "description": 'Bearer realm="redis-sessions" (with error="invalid_token" '
                "for a wrong key).",
                "schema": {"type": "string"},
            }
        },
    },
    "Forbidden": _json(
        _ref("Error"), "The key is not scoped to this app, or is read-only on a write route."
    ),
    "NotFound": _json(_ref("Error"), "No such route."),
    "MethodNotAllowed": {
        **_json(_ref("Error"), "Another method is needed on this route."),
        "headers": {"Allow": {"schema": {"type": "string"}}},
    },
    "Conflict": _json(
        _ref("Error"),
        "Redis holds another program's data where this session or app's keys should be "
        "(`corruptData`); the message says what, never a token.",
    ),
    "PayloadTooLarge": _json(_ref("Error"), f"The body is over {MAX_BODY} bytes."),
    "Unavailable": {
        **_json(_ref("Error"), "Redis (or the key database) is unreachable."),
        "headers": {"Retry-After": {"description": "Seconds.", "schema": {"type": "integer"}}},
    },
}

APP: Schema = {
    "name": "app",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": f"^{APP_PATTERN}$"},
}
TOKEN: Schema = {
    "name": "token",
    "in": "path",
    "required": True,
    "description": "The session's token (64 letters and digits).",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{64}$"},
}
ID: Schema = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The user id, percent-encoded: any Unicode but line breaks, `/`, `:` "
    "and spaces included.",
    "schema": {"type": "string", "minLength": 1, "maxLength": ID_MAX_LENGTH},
}
SECONDS: Schema = {"type": "string", "description": "Read as JavaScript's parseInt."}
IP: Schema = {
    "name": "ip",
    "in": "query",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": IP_MAX_LENGTH},
}
TTL: Schema = {
    "name": "ttl",
    "in": "query",
    "description": f"Seconds, {MIN_SECONDS} to {MAX_SECONDS}; default {DEFAULT_TTL}.",
    "schema": SECONDS,
}
DT: Schema = {
    "name": "dt",
    "in": "query",
    "required": True,
    "description": f"Seconds back from now, {MIN_SECONDS} to {MAX_SECONDS}.",
    "schema": SECONDS,
}

OPERATIONS: dict[str, Schema] = {
    "create": {
        "summary": "Create a session",
        "parameters": [APP, ID, IP, TTL],
        "requestBody": {
            "required": False,
            "description": "The session's `d` (optional; `{}` is none).",
            "content": {"application/json": {"schema": _ref("D")}},
        },
        "ok": (_ref("Token"), "The new session's token."),
    },
    "get": {
        "summary": "Get a session (counts a read)",
        "parameters": [APP, TOKEN],
        "ok": (_ref("SessionOrEmpty"), "The session, or {}."),
    },
    "set": {
        "summary": "Change a session's d (null deletes a key)",
        "parameters": [APP, TOKEN],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("D")}},
        },
        "ok": (_ref("SessionOrEmpty"), "The session after the change, or {}."),
    },
    "activity": {
        "summary": "Unique ids active in the last dt seconds",
        "parameters": [APP, DT],
        "ok": (_ref("Activity"), "The count."),
    },
    "soapp": {
        "summary": "Sessions of the app active in the last dt seconds",
        "parameters": [APP, DT],
        "ok": (_ref("Sessions"), "Newest activity first."),
    },
    "soid": {
        "summary": "Sessions of one id",
        "parameters": [APP, ID],
        "ok": (_ref("Sessions"), "The id's live sessions."),
    },
    "kill": {
        "summary": "End one session (audited)",
        "parameters": [APP, TOKEN],
        "ok": (_ref("Killed"), "1, or 0 when not found."),
    },
    "killsoid": {
        "summary": "End every session of one id (audited)",
        "parameters": [APP, ID],
        "ok": (_ref("Killed"), "How many ended."),
    },
    "killall": {
        "summary": "End every session of the app (audited)",
        "parameters": [APP],
        "ok": (_ref("Killed"), "How many ended."),
    },
}


def _operation(name: str, write: bool) -> Schema:
    spec = dict(OPERATIONS[name])
    schema, description = spec.pop("ok")
    responses: Schema = {
        "200": _json(schema, description),
        "400": _error("BadRequest"),
        "401": _error("Unauthorized"),
        "403": _error("Forbidden"),
        "404": _error("NotFound"),
        "405": _error("MethodNotAllowed"),
        "409": _error("Conflict"),
        "503": _error("Unavailable"),
    }
    if "requestBody" in spec:
        responses["413"] = _error("PayloadTooLarge")
    access = "a key with write access" if write else "any key"
    return {
        "operationId": name,
        **spec,
        "description": f"Needs {access} scoped to the app.",
        "security": [{"bearer": []}],
        "responses": responses,
    }


def document() -> Schema:
    paths: Schema = {}
    for route in APP_ROUTES.values():
        path = f"/api/v1/{{app}}/{route.operation}" + (f"/{{{route.param}}}" if route.param else "")
        paths[path] = {route.method.lower(): _operation(route.operation, route.write)}
    paths["/api/v1/ping"] = {
        "get": {
            "operationId": "ping",
            "summary": "Redis answers",
            "description": "No key needed.",
            "security": [],
            "responses": {
                "200": _json({"const": "PONG"}, "Redis answers."),
                "503": _error("Unavailable"),
            },
        }
    }
    paths["/api/v1/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1.")},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "redis-sessions REST API",
            "version": "1",
            "description": "rest-sessions' routes on the redis-sessions 4.0.0 layout, with "
            "bearer keys (`manage.py create_api_key`). Every answer is JSON; errors are "
            "`{name, message}`. Ids in paths are percent-encoded.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key from `manage.py create_api_key`.",
                }
            },
        },
        "security": [{"bearer": []}],
    }
