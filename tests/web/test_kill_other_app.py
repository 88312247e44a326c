"""The kill-session URL of one app never ends a session of another app, even one of the same
id whose handle the operator copied from that other app's table."""

from __future__ import annotations

import pytest
from django.test import Client

from dashboard.models import KillAudit
from sessions_core import RedisSessions
from tests.web.conftest import htmx


def _sessions(store: RedisSessions, app: str, id: str) -> int:
    return len(store.soid(app=app, id=id)["sessions"])


@pytest.mark.parametrize("with_htmx", [True, False])
def test_posting_a_blog_row_handle_to_the_shop_kill_url_ends_nothing(
    killer: Client, store: RedisSessions, with_htmx: bool
) -> None:
    blog = store.create(app="blog", id="u1", ip="10.0.0.4")["token"]
    shop = store.create(app="shop", id="u1", ip="10.0.0.1")["token"]
    rows = store.soapp_page(app="blog", delta_time=600)["rows"]
    assert len(rows) == 1
    blog_handle = rows[0]["handle"]  # the handle the blog table shows for u1's session

    form = {"id": "u1", "handle": blog_handle, "back": "app", "window": "600", "page": "1"}
    if with_htmx:
        response = killer.post("/apps/shop/kill/session/", form, headers=htmx("sessions"))
        assert response.status_code == 200
        assert "0 sessions ended" in response.content.decode()
    else:
        response = killer.post("/apps/shop/kill/session/", form, follow=True)
        assert response.redirect_chain == [("/apps/shop/?window=600", 302)]
        assert "0 sessions ended" in response.content.decode()

    assert store.get(app="blog", token=blog) is not None
    assert store.get(app="shop", token=shop) is not None
    assert _sessions(store, "blog", "u1") == 1
    assert _sessions(store, "shop", "u1") == 1
    audit = KillAudit.objects.get()
    assert (audit.app, audit.user_id, audit.count) == ("shop", "u1", 0)
