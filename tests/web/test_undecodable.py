"""Requests whose form or query string cannot be decoded get the house 400 page, never a 500.

Sent over real HTTP with a real CSRF cookie and header, as a script would send them: Django's
CSRF check reads the form before any view does, and with DEBUG on its error page crashed on
the same form (a 500). A charset that is no text encoding broke Django while it built the
request object, so those requests go to `project.wsgi.application`, the WSGI application
gunicorn serves, on a server of the test's own (pytest-django's live server builds Django's
plain handler).
"""

from __future__ import annotations

import asyncio
import http.client
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.contrib.auth.models import User

from sessions_core import RedisSessions
from tests.web.conftest import client_for

KILLS = ["/apps/shop/kill/session/", "/apps/shop/kill/user/", "/apps/shop/kill/all/"]
LOGINS = ["/accounts/login/", "/admin/login/"]
FORM = "username=operator&password=pw&id=u1&handle=abc&confirm=shop"
MULTIPART = b'--xx\r\nContent-Disposition: form-data; name="confirm"\r\n\r\nshop\r\n--xx--\r\n'


class Server:
    """Raw HTTP to the live server, with a CSRF cookie and header (and optionally a login)."""

    def __init__(self, url: str, session: str = "") -> None:
        self.netloc = urlsplit(url).netloc
        self.csrf = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret
        self.cookies = f"csrftoken={self.csrf}" + (f"; sessionid={session}" if session else "")

    def send(
        self, method: str, path: str, body: bytes = b"", content_type: str = ""
    ) -> tuple[int, str]:
        connection = http.client.HTTPConnection(self.netloc, timeout=10)
        headers = {"Cookie": self.cookies, "X-CSRFToken": self.csrf}
        if content_type:
            headers["Content-Type"] = content_type
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.status, response.read().decode("utf-8", "replace")
        connection.close()
        return answer


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def anonymous(redis_settings: object) -> Iterator[Server]:
    """The production WSGI application on a real HTTP server (no login: no database needed)."""
    from project.wsgi import application

    server: WSGIServer = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def anonymous_live(live_server: Any, redis_settings: object) -> Server:
    return Server(live_server.url)


@pytest.fixture
def killer_http(live_server: Any, make_user: Callable[..., User], store: RedisSessions) -> Server:
    store.create(app="shop", id="u1", ip="10.0.0.1")
    client = client_for("killer", make_user)
    return Server(live_server.url, session=client.cookies["sessionid"].value)


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request: pytest.FixtureRequest, settings: Any) -> bool:
    settings.DEBUG = request.param
    return bool(request.param)


def assert_house_400(status: int, html: str, detail: str) -> None:
    assert status == 400, html[-500:]
    assert "<h1>Bad request</h1>" in html
    assert detail in html
    assert "Traceback" not in html


@pytest.mark.parametrize("charset", ["utf-16", "utf-32", "latin-1", "cp500"])
@pytest.mark.parametrize("path", LOGINS)
def test_login_form_in_another_charset_than_utf8_is_the_house_400_page(
    anonymous_live: Server, debug: bool, path: str, charset: str
) -> None:
    status, html = anonymous_live.send(
        "POST",
        path,
        FORM.encode(charset),
        f"application/x-www-form-urlencoded; charset={charset}",
    )
    assert_house_400(status, html, "content type must be UTF-8 encoded")


@pytest.mark.parametrize("path", KILLS)
def test_kill_form_in_utf16_is_the_house_400_page_and_kills_nothing(
    killer_http: Server, store: RedisSessions, debug: bool, path: str
) -> None:
    status, html = killer_http.send(
        "POST", path, FORM.encode("utf-16"), "application/x-www-form-urlencoded; charset=utf-16"
    )
    assert_house_400(status, html, "content type must be UTF-8 encoded")
    assert len(store.soid(app="shop", id="u1")["sessions"]) == 1


@pytest.mark.parametrize("charset", ["rot13", "hex", "base64"])
@pytest.mark.parametrize("path", [*LOGINS, *KILLS])
def test_a_charset_that_is_no_text_encoding_is_the_house_400_page(
    anonymous: Server, debug: bool, path: str, charset: str
) -> None:
    """Python knows these codecs but they turn bytes into bytes: Django's decode raised."""
    for body, content_type in [
        (FORM.encode(), f"application/x-www-form-urlencoded; charset={charset}"),
        (MULTIPART, f"multipart/form-data; charset={charset}; boundary=xx"),
        (FORM.encode(), f"text/plain; charset={charset}"),
    ]:
        for query in ["", "?next=/"]:
            status, html = anonymous.send("POST", f"{path}{query}", body, content_type)
            assert_house_400(status, html, f"&#x27;{charset}&#x27; is not a text encoding")


@pytest.mark.parametrize("path", ["/", "/apps/shop/?window=60", "/apps/shop/user/?id=u1"])
def test_a_page_asked_for_with_a_charset_that_is_no_text_encoding_is_400(
    anonymous: Server, debug: bool, path: str
) -> None:
    status, html = anonymous.send("GET", path, content_type="text/plain; charset=rot13")
    assert_house_400(status, html, "is not a text encoding")


def test_a_utf8_kill_form_over_http_still_works(killer_http: Server, store: RedisSessions) -> None:
    status, _ = killer_http.send(
        "POST",
        "/apps/shop/kill/all/",
        b"confirm=shop",
        "application/x-www-form-urlencoded; charset=UTF-8",
    )
    assert status == 302
    assert store.soid(app="shop", id="u1")["sessions"] == []


def test_an_unknown_charset_is_read_as_utf8_as_django_does(
    killer_http: Server, store: RedisSessions
) -> None:
    status, _ = killer_http.send(
        "POST",
        "/apps/shop/kill/all/",
        b"confirm=shop",
        "application/x-www-form-urlencoded; charset=no-such-charset",
    )
    assert status == 302
    assert store.soid(app="shop", id="u1")["sessions"] == []


def test_the_asgi_application_answers_the_house_400_page_too(
    redis_settings: object, db: None
) -> None:
    """ASGIRequest reads the query string as UTF-8; the form is the middleware's to refuse.
    (`db`: Django closes old connections around each request.)"""
    from asgiref.sync import async_to_sync

    from project.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/accounts/login/",
        "raw_path": b"/accounts/login/",
        "query_string": b"next=%2Faudit%2F",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", b"application/x-www-form-urlencoded; charset=rot13"),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("localhost", 80),
    }
    body = [{"type": "http.request", "body": FORM.encode(), "more_body": False}]
    sent: list[Mapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if body:
            return body.pop()
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    async_to_sync(application)(scope, receive, send)
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    html = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert_house_400(start["status"], html.decode(), "&#x27;rot13&#x27; is not a text encoding")
