"""No token in a log line: uvicorn's access log (when turned on) masks a path's token."""

from __future__ import annotations

import logging

import pytest

from api.logs import RedactTokens, redact

TOKEN = "Ab3" * 21 + "Z"


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (f"/api/v1/shop/get/{TOKEN}", "/api/v1/shop/get/{token}"),
        (f"/api/v1/shop/set/{TOKEN}?x=1", "/api/v1/shop/set/{token}?x=1"),
        (f"/api/v1/shop/kill/{TOKEN}", "/api/v1/shop/kill/{token}"),
        (f"/api/v1/a/b/get/{TOKEN}", "/api/v1/a/b/get/{token}"),  # a decoded %2F in the app
        (f"/api/v1/shop/get/{TOKEN}/../x", "/api/v1/shop/get/{token}"),
        (f"/api/v1/shop/soid/{TOKEN}", "/api/v1/shop/soid/{redacted}"),
        ("/api/v1/shop/killsoid/u1", "/api/v1/shop/killsoid/u1"),
        ("/api/v1/shop/killall", "/api/v1/shop/killall"),
        ("/api/v1/shop/activity?dt=600", "/api/v1/shop/activity?dt=600"),
    ],
)
def test_redact_masks_tokens_and_keeps_the_rest(line: str, masked: str) -> None:
    assert redact(line) == masked


def test_the_filter_masks_uvicorns_access_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("uvicorn.access.test")
    logger.addFilter(RedactTokens())
    with caplog.at_level(logging.INFO, logger="uvicorn.access.test"):
        logger.info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/api/v1/s/get/{TOKEN}", "1.1", 200
        )

    assert caplog.messages == ['127.0.0.1:5000 - "GET /api/v1/s/get/{token} HTTP/1.1" 200']
    assert TOKEN not in caplog.text
