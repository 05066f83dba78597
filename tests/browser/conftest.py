"""Fixtures shared by the browser tests: one headless Debian Chromium per test."""

import os
import shutil

import pytest


@pytest.fixture
def browser():
    """A launched Chromium (Playwright sync API); closed after the test."""
    if shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.browser.chromium import launch_chromium

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()
