"""Launching Debian's Chromium with Playwright, for the browser tests and benches.

Never `playwright install`: it downloads a browser. The flags keep Chromium from
reaching the network on its own (background updates, sync, QUIC).
"""

import shutil

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def launch_chromium(playwright):
    """A headless Debian Chromium browser from a sync_playwright() context."""
    return playwright.chromium.launch(
        executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS
    )


PASSWORD = "pw-for-tests-1"


def login(browser, base_url, username, password=PASSWORD, **context_options):
    """A new page, in its own context, logged in as ``username``.

    Uncaught page errors are collected in ``page.errors``.
    """
    context_options.setdefault("viewport", {"width": 1280, "height": 900})
    page = browser.new_context(**context_options).new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/projects/")
    return page
