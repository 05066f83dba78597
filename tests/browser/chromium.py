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
