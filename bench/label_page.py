"""Time from clicking Submit on the labelling page to the next item's canvas being
interactive (image decoded and drawn, one animation frame later), in headless
Chromium against a live server on loopback with a fresh SQLite file database.

Seeds one project with N real PNG items (synthetic images), logs in through the
login form, then submits N-1 items in a row and prints p50 / p95 / max in ms.

Usage: .venv/bin/python bench/label_page.py [--items 31] [--size 1280x960]
"""

import argparse
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.browser.chromium import launch_chromium  # noqa: E402

CLICK_AND_WAIT = """
() => new Promise((resolve) => {
  const t0 = performance.now();
  document.addEventListener("taskReady", () => {
    requestAnimationFrame(() => resolve(performance.now() - t0));
  }, { once: true });
  document.querySelector("[data-testid=submit]").click();
})
"""


from _common import setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=31)
    parser.add_argument("--size", default="1280x960")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    setup_django("label")
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    from alweb.roles import Role
    from tests.factories import UserFactory, add_member, make_items, make_project

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
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", "bench-ann")
        page.fill("input[name=password]", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.wait_for_url("**/projects/", timeout=15000)
        page.goto(f"{base}/projects/{project.pk}/label/")
        page.wait_for_function(
            "() => window.alwebTask && window.alwebTask.id", timeout=15000
        )
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
