"""Time from submitting on the labelling page to the next item's image on screen
(decoded and drawn, one animation frame later) and to its claim confirmed, in
headless Chromium against a live server on loopback with a fresh SQLite file
database; with the next item preloaded (the default) and without (--no-preload).

Seeds one project with N real PNG items (synthetic images), logs in through the
login form, then submits N-1 items in a row with the "Nothing here" button (an
empty submit on purpose: no question asked) and prints p50 / p95 / max in ms.
With preloading it waits, before each submit, until the look-ahead has finished
(a person looks at an item far longer than that); that wait is not in the figures.

Usage: .venv/bin/python bench/label_page.py [--items 31] [--size 1280x960]
       [--no-preload]
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
async (preload) => {
  if (preload) await window.alwebPage.runner.preloader.settled;
  return await new Promise((resolve) => {
    const t0 = performance.now();
    let shown = null;
    const onShown = (e) => { shown = e.detail.at - t0; };
    document.addEventListener("itemShown", onShown, { once: true });
    document.addEventListener("taskReady", (e) => {
      document.removeEventListener("itemShown", onShown);
      requestAnimationFrame(() => resolve({ shown, ready: e.detail.readyAt - t0 }));
    }, { once: true });
    document.querySelector("[data-testid=submit-empty]").click();
  });
}
"""


from _common import setup_django  # noqa: E402


def pct(xs, q):
    xs = sorted(xs)
    return xs[max(0, int(round(q * len(xs))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=31)
    parser.add_argument("--size", default="1280x960")
    parser.add_argument("--no-preload", action="store_true")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    preload = not args.no_preload

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
        if not preload:
            page.add_init_script("window.alwebPreload = false;")
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
            timings.append(page.evaluate(CLICK_AND_WAIT, preload))
        browser.close()
    server.terminate()
    mode = "preloaded" if preload else "no preload"
    print(f"label page, {len(timings)} submits, {width}x{height} PNG, {mode}:")
    for key, what in [("shown", "next image on screen"), ("ready", "claim confirmed")]:
        xs = sorted(t[key] for t in timings)
        print(
            f"  submit -> {what}: p50={statistics.median(xs):.1f} ms "
            f"p95={pct(xs, 0.95):.1f} ms max={xs[-1]:.1f} ms"
        )


if __name__ == "__main__":
    main()
