"""Tokens stay out of log lines: a path's token (after get/, set/, kill/) is masked in
uvicorn's access log, should an operator turn it on (the Procfile's line turns it off)."""

from __future__ import annotations

import logging
import re

# What follows an operation that takes a token, up to the query string; and any run of 64
# letters and digits (a token's shape) left elsewhere in the line.
_AFTER_TOKEN_ROUTE = re.compile(r"/(get|set|kill)/[^?\s]*")
_TOKEN_SHAPED = re.compile(r"[A-Za-z0-9]{64,}")


def redact(text: str) -> str:
    return _TOKEN_SHAPED.sub("{redacted}", _AFTER_TOKEN_ROUTE.sub(r"/\1/{token}", text))


class RedactTokens(logging.Filter):
    """For uvicorn's access logger, whose record args are (client, method, path, version,
    status): the path is masked; for any other record, its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
