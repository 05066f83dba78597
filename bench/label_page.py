"""Time from clicking Submit on the labelling page to the next item's canvas being
interactive (image decoded and drawn, one animation frame later), in headless
Chromium against a live server on loopback with a fresh SQLite file database.

Seeds one project with N real PNG items (synthetic images), logs in through the
login form, then submits N-1 items in a row and prints p50 / p95 / max in ms.

Usage: .venv/bin/python bench/label_page.py [--items 31] [--size 1280x960]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
CLICK_AND_WAIT = """
() => new Promise((resolve) => {
  const t0 = performance.now();
  document.addEventListener("taskReady", () => {
    requestAnimationFrame(() => resolve(performance.now() - t0));
  }, { once: true });
  document.querySelector("[data-testid=submit]").click();
})
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=31)
    parser.add_argument("--size", default="1280x960")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    var = tempfile.mkdtemp(prefix="alweb-bench-label-")
    os.environ["ALWEB_VAR_DIR"] = var
    os.environ["ALWEB_SQLITE_PATH"] = str(Path(var) / "bench.sqlite3")
    os.environ["ALWEB_Q_SYNC"] = "1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "alweb.settings"
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread

    from alweb.roles import Role
    from tests.factories import UserFactory, add_member, make_items, make_project

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the login lock's cache
    project = make_project(UserFactory(username="bench-owner"), name="bench")
    add_member(project, Role.ANNOTATOR, UserFactory(username="bench-ann"))
    make_items(project, args.items, size=(width, height))

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"

    from playwright.sync_api import sync_playwright

    timings = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", "bench-ann")
        page.fill("input[name=password]", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.wait_for_url("**/projects/", timeout=15000)
        page.goto(f"{base}/projects/{project.pk}/label/")
        page.wait_for_function("window.alwebTask && window.alwebTask.id", timeout=15000)
        for _ in range(args.items - 1):
            timings.append(page.evaluate(CLICK_AND_WAIT))
        browser.close()
    server.terminate()
    timings.sort()
    p95 = timings[max(0, int(round(0.95 * len(timings))) - 1)]
    print(
        f"submit->next interactive over {len(timings)} items ({width}x{height} PNG): "
        f"p50={statistics.median(timings):.1f} ms p95={p95:.1f} ms "
        f"max={timings[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
