"""Real-browser fixtures: Debian's Chromium driven by Playwright against a live Django server.

The live server (pytest-django's `live_server`, a thread of this process) talks to the
private test Redis through `redis_settings`; tests create sessions "elsewhere" with `rs`
and check Redis with `r`. Without Chromium every test here is skipped, with the reason
in the skip line and a banner in the terminal summary, never silently.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import log_in

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev requirements pin playwright
    sync_playwright = None  # type: ignore[assignment]

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium stalls on a closed network, waiting for Google's services.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000


def find_chromium() -> str | None:
    """$CHROMIUM when set, else Debian's /usr/bin/chromium, else `chromium` on PATH."""
    if "CHROMIUM" in os.environ:
        path = os.environ["CHROMIUM"]
        return path if os.access(path, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM = find_chromium()
if sync_playwright is None:
    SKIP_REASON: str | None = "the playwright package is not installed"
elif CHROMIUM is None:
    SKIP_REASON = (
        f"Chromium not found at $CHROMIUM ({os.environ['CHROMIUM']})"
        if "CHROMIUM" in os.environ
        else "Chromium not found (/usr/bin/chromium or `chromium` on PATH)"
    )
else:
    SKIP_REASON = None


def _is_browser_test(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_browser_test(item):
            item.add_marker(pytest.mark.browser)
            if SKIP_REASON:
                item.add_marker(
                    pytest.mark.skip(reason=f"REAL-BROWSER TEST NOT RUN: {SKIP_REASON}")
                )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "REAL-BROWSER TEST NOT RUN" in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_sep(
            "!",
            f"{len(skipped)} REAL-BROWSER TESTS WERE SKIPPED: {SKIP_REASON}",
            red=True,
            bold=True,
        )


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the browser tests (package scope: gone before tests/web)."""
    # Playwright's sync API keeps an asyncio loop in the main thread, so Django would
    # refuse ORM calls made by the tests (creating users, the per-test flush).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def base_url(live_server: Any, redis_settings: Any) -> str:
    """The live server's root URL, its Django pointed at the test Redis."""
    return str(live_server.url)


class PageErrors:
    """Uncaught JavaScript errors of a page: a broken page fails its test."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, error: Any) -> None:
        self.errors.append(str(error))


def _new_context(browser: Browser, base_url: str, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, **options)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = _new_context(browser, base_url)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors = PageErrors()
    page.on("pageerror", errors)
    yield page
    assert errors.errors == [], f"JavaScript errors on the page: {errors.errors}"


@pytest.fixture
def operator_credentials(django_user_model: Any, settings: Any) -> tuple[str, str]:
    """A staff account holding exactly the dashboard's two permissions (not a superuser)."""
    from django.contrib.auth.models import Permission

    # PBKDF2's cost is the point in production and seconds per test here (hash + login).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    password = secrets.token_urlsafe(16)
    user = django_user_model.objects.create_user(
        username="operator", password=password, is_staff=True
    )
    permissions = Permission.objects.filter(
        content_type__app_label="dashboard", codename__in=["view_sessions", "kill_sessions"]
    )
    assert permissions.count() == 2, "dashboard.view_sessions / kill_sessions must exist"
    user.user_permissions.add(*permissions)
    return "operator", password


@pytest.fixture
def operator(page: Page, operator_credentials: tuple[str, str]) -> Page:
    """A page logged in as the operator."""
    log_in(page, *operator_credentials)
    return page


@pytest.fixture
def operator_without_js(
    browser: Browser, base_url: str, operator_credentials: tuple[str, str]
) -> Iterator[Page]:
    """A page logged in as the operator, in a browser with JavaScript turned off."""
    context = _new_context(browser, base_url, java_script_enabled=False)
    page = context.new_page()
    log_in(page, *operator_credentials)
    yield page
    context.close()
