"""Ids and sessions another program wrote, driven through real Chromium: ids no form field can
carry as text (NUL, invalid UTF-8) are killed exactly, from the app page, the user page and
"Log out everywhere"; a right-to-left override in an id stays isolated; unreadable sessions
show as such and are killable. Sessions are planted byte for byte, as a Node app writes them."""

from __future__ import annotations

import base64
import re
import secrets
import string
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from dashboard.models import KillAudit
from sessions_core import RedisSessions

from .support import exact, handle_of, session_row

APP = "shop"
ALPHANUMERIC = string.ascii_letters + string.digits


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the test Redis that reads bytes: ids here are not always text."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def plant(client: redis.Redis, raw_id: bytes, **fields: str) -> str:
    """A session of APP as a Node app writes it, its id as raw bytes; returns its token."""
    token = "".join(secrets.choice(ALPHANUMERIC) for _ in range(64))
    now = int(client.time()[0])
    pipe = client.pipeline(transaction=True)
    pipe.zadd(f"rs:{APP}:_sessions".encode(), {token.encode() + b":" + raw_id: now})
    pipe.zadd(f"rs:{APP}:_users".encode(), {raw_id: now})
    pipe.zadd(b"rs:SESSIONS", {f"{APP}:{token}:".encode() + raw_id: now + 3600})
    pipe.sadd(f"rs:{APP}:us:".encode() + raw_id, token)
    mapping: dict[str, str | bytes | int] = {"id": raw_id, "r": 1, "w": 1, "ip": "10.0.0.9"}
    mapping |= {"la": now, "ttl": 3600}
    mapping.update(fields)
    pipe.hset(f"rs:{APP}:{token}", mapping=mapping)  # type: ignore[arg-type]
    pipe.execute()
    return token


def stored(client: redis.Redis, raw_id: bytes, token: str) -> bool:
    """Whether any trace of the session is left in Redis: its hash or an index entry."""
    member = token.encode() + b":" + raw_id
    return bool(
        client.exists(f"rs:{APP}:{token}")
        or client.zscore(f"rs:{APP}:_sessions", member) is not None
        or client.zscore(b"rs:SESSIONS", f"{APP}:".encode() + member) is not None
        or client.sismember(f"rs:{APP}:us:".encode() + raw_id, token)
    )


def ref_of(raw_id: bytes) -> str:
    """The `ref` the dashboard carries an id as: its bytes in unpadded base64url."""
    return base64.urlsafe_b64encode(raw_id).rstrip(b"=").decode()


def row(page: Page, token: str) -> Locator:
    return session_row(page, handle_of(APP, token))


def kill(page: Page, token: str) -> None:
    """Click a session's Kill button (it asks no confirmation) and wait for the answer."""
    with page.expect_response(re.compile(rf"/apps/{APP}/kill/session/$")) as answer:
        row(page, token).get_by_test_id("kill-session").click()
    assert answer.value.status == 200


def console_errors(page: Page) -> list[str]:
    """A live list of the page's console errors (htmx logs a refused request there)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} ({message.location})")

    page.on("console", on_console)
    return errors


@pytest.mark.parametrize("raw_id", [b"nul\x00id", b"bad\xff\xfeid"], ids=["nul", "invalid-utf8"])
def test_an_id_no_form_field_can_carry_is_killed_exactly_from_every_kill_control(
    operator: Page, rs: RedisSessions, raw: redis.Redis, raw_id: bytes
) -> None:
    page = operator
    errors = console_errors(page)
    shown = raw_id.decode("utf-8", "replace").replace("\x00", "\ufffd")
    assert "\ufffd" in shown
    tokens = [plant(raw, raw_id, ip=f"10.0.0.{i}") for i in range(4)]
    # The text the browser would send for the id if the pages carried it as text: a
    # different user, who must keep their session whatever the operator kills.
    lookalike = rs.create(app=APP, id=shown, ip="10.9.9.9")["token"]

    page.goto(f"/apps/{APP}/")
    expect(page.get_by_test_id("session-row")).to_have_count(5)
    expect(row(page, tokens[0]).get_by_test_id("user-link")).to_have_text(exact(shown))

    # The app page's Kill ends that very session.
    kill(page, tokens[0])
    expect(page.get_by_test_id("message")).to_have_text("1 session ended")
    expect(row(page, tokens[0])).to_have_count(0)
    expect(page.get_by_test_id("session-row")).to_have_count(4)
    assert not stored(raw, raw_id, tokens[0])
    assert all(stored(raw, raw_id, t) for t in tokens[1:])

    # The id's link leads to the user page of exactly that id: its sessions, not the lookalike's.
    row(page, tokens[1]).get_by_test_id("user-link").click()
    page.wait_for_url(re.compile(rf"/apps/{APP}/user/\?"))
    assert parse_qs(urlsplit(page.url).query) == {"ref": [ref_of(raw_id)]}
    expect(page.get_by_test_id("user-id")).to_have_text(exact(shown))
    expect(page.get_by_test_id("session-row")).to_have_count(3)
    expect(page.get_by_test_id("sessions-total")).to_have_text("3 live sessions in shop.")
    expect(row(page, lookalike)).to_have_count(0)

    # The user page's Kill.
    kill(page, tokens[1])
    expect(page.get_by_test_id("message")).to_have_text("1 session ended")
    expect(row(page, tokens[1])).to_have_count(0)
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    assert not stored(raw, raw_id, tokens[1])

    # "Log out everywhere" for the two sessions left.
    page.get_by_test_id("killsoid-confirm").check()
    with page.expect_response(re.compile(rf"/apps/{APP}/kill/user/$")) as answer:
        page.get_by_test_id("killsoid-button").click()
    assert answer.value.status == 200
    expect(page.get_by_test_id("message")).to_have_text("2 sessions ended")
    expect(page.get_by_test_id("session-row")).to_have_count(0)
    assert not any(stored(raw, raw_id, t) for t in tokens)
    assert not raw.exists(f"rs:{APP}:us:".encode() + raw_id)
    assert raw.zscore(f"rs:{APP}:_users", raw_id) is None

    assert rs.get(app=APP, token=lookalike) is not None, "the lookalike id must keep its session"
    audit = KillAudit.objects.order_by("pk")
    assert [(a.action, a.count) for a in audit] == [("kill", 1), ("kill", 1), ("killsoid", 2)]
    assert errors == []


EVIL = "\u202eevil"

# The nearest ancestor (or the element itself) that isolates its content's direction, and
# whether that element holds nothing but the id, for each text node holding U+202E in `root`.
ISOLATION = """
root => {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.data.includes("\\u202e")) continue;
    let element = node.parentElement;
    while (element && !getComputedStyle(element).unicodeBidi.startsWith("isolate")) {
      element = element.parentElement;
    }
    found.push(element ? [element.tagName, element.textContent] : null);
  }
  return found;
}
"""

# Where the text after the id is drawn: the left edge of the summary's final "." and the
# right edge of the id's own characters. An override leaking out of the id draws the "."
# left of them.
AFTER_THE_ID = """
(summary, id) => {
  const walker = document.createTreeWalker(summary, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push(node);
  const holder = texts.find((node) => node.data.includes(id));
  const last = texts[texts.length - 1];
  const box = (node, start, length) => {
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, start + length);
    return range.getBoundingClientRect();
  };
  const dot = box(last, last.data.lastIndexOf("."), 1);
  return [dot.left, box(holder, holder.data.indexOf(id), id.length).right];
}
"""


def test_a_right_to_left_override_in_an_id_is_isolated_wherever_the_id_is_shown(
    operator: Page, rs: RedisSessions
) -> None:
    page = operator
    token = rs.create(app=APP, id=EVIL, ip="10.0.0.1")["token"]
    rs.create(app=APP, id="plain", ip="10.0.0.2")

    page.goto(f"/apps/{APP}/")
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    table = page.locator("#sessions tbody")
    assert table.evaluate(ISOLATION) == [["BDI", EVIL]]
    kill_label = row(page, token).get_by_test_id("kill-session").get_attribute("aria-label")
    assert kill_label == f"End this session of \u2068{EVIL}\u2069"

    # The search summary has text after the id: it stays after it, on the right.
    page.get_by_test_id("search-input").fill(EVIL)
    page.get_by_test_id("search-button").click()
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    summary = page.get_by_test_id("sessions-total")
    expect(summary).to_contain_text(EVIL)
    assert summary.evaluate(ISOLATION) == [["BDI", EVIL]]
    dot_left, id_right = summary.evaluate(AFTER_THE_ID, EVIL)
    assert dot_left >= id_right - 0.5, "the text after the id was drawn before it"

    # The user page: the id in its heading and in the document's title.
    page.get_by_test_id("user-link").click()
    page.wait_for_url(re.compile(rf"/apps/{APP}/user/\?"))
    assert parse_qs(urlsplit(page.url).query) == {"id": [EVIL]}
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    assert page.locator("h1").evaluate(ISOLATION) == [["BDI", EVIL]]
    assert page.locator("main").evaluate(ISOLATION) == [["BDI", EVIL]]
    assert f"\u2068{EVIL}\u2069" in page.evaluate("document.title")
    assert page.evaluate("document.title").startswith("User \u2068")


@pytest.mark.parametrize(
    "fields", [{"d": "{not json"}, {"ttl": "abc"}], ids=["d-not-json", "ttl-not-integer"]
)
def test_an_unreadable_session_shows_as_such_and_its_kill_works(
    operator: Page, rs: RedisSessions, raw: redis.Redis, fields: dict[str, str]
) -> None:
    page = operator
    errors = console_errors(page)
    broken = plant(raw, b"node-user", **fields)
    fine = rs.create(app=APP, id="fine", ip="10.0.0.1", d={"a": 1})["token"]

    page.goto(f"/apps/{APP}/")
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    expect(page.get_by_test_id("count-sessions")).to_have_text("2")
    notice = row(page, broken).get_by_test_id("unreadable")
    expect(notice).to_contain_text("Unreadable session")
    expect(row(page, fine).get_by_test_id("unreadable")).to_have_count(0)
    expect(row(page, fine).locator("td.keys")).to_have_text("a")

    kill(page, broken)
    expect(page.get_by_test_id("message")).to_have_text("1 session ended")
    expect(row(page, broken)).to_have_count(0)
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    # The live counts refresh after the kill (a request that would log any error).
    expect(page.get_by_test_id("count-sessions")).to_have_text("1")
    assert not stored(raw, b"node-user", broken)
    assert rs.get(app=APP, token=fine) is not None
    assert errors == []
