"""Session data is data: hostile ids, ips and `d` show as text, work in links, never run."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import redis
from playwright.sync_api import Dialog, Page, expect

from sessions_core import RedisSessions

from .support import KEYS, handle_of, session_row, user_link

SCRIPT_ID = "<script>window.__pwned=1</script>"
IMG_ID = '<img src=x onerror="window.__pwned=2">'
BREAKOUT_ID = "\"'><svg onload=alert(3)>"
URL_ID = "a/b:c?d#e%f&id=x+y"
EMOJI_ID = "emoji 😀👩‍💻 ü"
SPACED_ID = " spaced  id "
HOSTILE_IDS = [SCRIPT_ID, IMG_ID, BREAKOUT_ID, URL_ID, EMOJI_ID, SPACED_ID]
HOSTILE_IP = "<img src=x onerror=alert(6)>"
HOSTILE_D = {
    "<b>key</b>": "<script>window.__pwned=4</script>",
    "note": "<img src=x onerror=alert(5)>",
}


def assert_inert(page: Page, dialogs: list[Dialog]) -> None:
    """Nothing from session data ran or became markup."""
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert [d.message for d in dialogs] == []
    assert page.locator("main img, main script, main b, main svg[onload]").count() == 0


def test_hostile_ids_render_as_text_link_to_their_user_page_and_never_run(
    operator: Page, rs: RedisSessions, r: redis.Redis
) -> None:
    page = operator
    dialogs: list[Dialog] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    for id in HOSTILE_IDS:
        rs.create(app="shop", id=id, ip=HOSTILE_IP, d=HOSTILE_D)
    url_tokens = [rs.create(app="shop", id=URL_ID, ip="10.7.0.1")["token"] for _ in range(2)]

    page.goto("/apps/shop/")
    expect(page.get_by_test_id("session-row")).to_have_count(len(HOSTILE_IDS) + 2)
    for id in HOSTILE_IDS:
        expect(user_link(page, id).first).to_be_visible()
    links = page.get_by_test_id("user-link").all_text_contents()
    assert sorted(links) == sorted([*HOSTILE_IDS, URL_ID, URL_ID])
    data_keys = page.locator("td.keys").filter(has_text="note")
    expect(data_keys).to_have_count(len(HOSTILE_IDS))
    expect(data_keys.first).to_have_text("<b>key</b>, note")
    assert_inert(page, dialogs)

    for id in HOSTILE_IDS:
        page.goto("/apps/shop/")
        user_link(page, id).first.click()
        expect(page.get_by_test_id("user-id")).to_be_visible()
        assert page.get_by_test_id("user-id").text_content() == id
        assert parse_qs(urlsplit(page.url).query)["id"] == [id]
        expect(page.get_by_test_id("session-data").first).to_contain_text(HOSTILE_D["note"])
        expect(page.get_by_text(HOSTILE_IP).first).to_be_visible()
        assert_inert(page, dialogs)

    # The id with every URL delimiter: its kill forms address exactly its sessions.
    page.goto("/apps/shop/")
    user_link(page, URL_ID).first.click()
    expect(page.get_by_test_id("session-row")).to_have_count(3)
    session_row(page, handle_of("shop", url_tokens[0])).get_by_test_id("kill-session").click()
    expect(page.get_by_test_id("session-row")).to_have_count(2)
    assert rs.get(app="shop", token=url_tokens[0]) is None
    page.get_by_test_id("killsoid-confirm").check()
    page.get_by_test_id("killsoid-button").click()
    expect(page.get_by_test_id("message")).to_have_text("2 sessions ended")
    assert not r.exists(KEYS.user_tokens("shop", URL_ID))
    assert all(len(rs.soid(app="shop", id=id)["sessions"]) == 1 for id in HOSTILE_IDS[:3])

    # Searching for a hostile id, and the audit log that names it, stay inert too.
    page.goto("/apps/shop/")
    page.get_by_test_id("search-input").fill(SCRIPT_ID)
    page.get_by_test_id("search-button").click()
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    expect(page.get_by_test_id("sessions-total")).to_contain_text(SCRIPT_ID)
    assert_inert(page, dialogs)
    page.goto("/audit/")
    expect(page.get_by_test_id("audit-row")).to_have_count(2)
    expect(page.get_by_text(URL_ID).first).to_be_visible()
    assert_inert(page, dialogs)
