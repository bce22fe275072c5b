"""Browser tests: Debian's headless chromium, driven by Playwright, against the live local stack
(CORE_URL, OTP_URL; `make browser` starts the declared one if none answers). They run only when
selected with `-m browser`, so the unit suite stays self-contained.

    cd services/core && ../../.venv/bin/python -m devstack stack -- ../../.venv/bin/pytest -m browser
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from pathlib import Path

import pytest
from devstack import inbox

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_DIR = Path(__file__).resolve().parents[5]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", REPO_DIR / "var" / "artifacts" / "screenshots"))


def pytest_collection_modifyitems(config, items):
    if re.search(r"(?<!not )\bbrowser\b", config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="browser test: run with `pytest -m browser` against a live stack")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def core_url() -> str:
    return os.environ.get("CORE_URL", "http://127.0.0.1:8000").rstrip("/")


@pytest.fixture(scope="session")
def otp_url() -> str:
    return os.environ.get("OTP_URL", "http://127.0.0.1:8001").rstrip("/")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, core_url):
    """Each call is another person's browser (own cookies, language, screen)."""
    contexts = []

    def make(*, locale: str = "en-US", mobile: bool = False, javascript: bool = True, timezone_id: str = "UTC"):
        context = browser.new_context(
            base_url=core_url,
            locale=locale,
            timezone_id=timezone_id,
            java_script_enabled=javascript,
            viewport={"width": 390, "height": 844} if mobile else {"width": 1280, "height": 800},
            device_scale_factor=1,
            is_mobile=mobile,
            has_touch=mobile,
        )
        if javascript:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=core_url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") → var/artifacts/screenshots/<test>-<nn>-<step>.png (full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)
    counter = iter(range(1, 100))

    def take(page, step: str) -> Path:
        path = SCREENSHOTS / f"{test_name}-{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def random_phone():
    """A fresh valid Russian mobile number per call: the live database and OTP limits persist."""

    def make() -> tuple[str, str]:
        digits = f"{secrets.randbelow(10**7):07d}"
        e164 = f"+7999{digits}"
        typed = f"8 (999) {digits[:3]}-{digits[3:5]}-{digits[5:]}"  # as a person types it
        return e164, typed

    return make


@pytest.fixture
def inbox_code(otp_url):
    """The newest code the dev SMS inbox got for `phone` after `since` (a time.time())."""
    return functools.partial(inbox.code, otp_url, timeout=15.0)
