"""The Work page in Chromium: its bars draw (goal, statuses, splits), and a
figure's link opens the item browser filtered to the items behind it."""

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.chromium import launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_work_page_draws_its_bars_and_a_figure_opens_the_items(
    live_server, project_roles
):
    from alweb.roles import Role
    from tests.annotate.test_work_page import seed_work

    project, users, _ = project_roles
    items = seed_work(project, users)
    manager = users[Role.ANNOTATION_MANAGER]
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        failed = []
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and not r.url.endswith("/favicon.ico")
                and failed.append(f"{r.status} {r.url}")
            ),
        )
        page.goto(f"{live_server.url}/projects/{project.pk}/")
        page.fill("input[name=username]", manager.username)
        page.fill("input[name=password]", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.wait_for_url(f"**/projects/{project.pk}/")
        page.get_by_test_id("tab-work").click()
        page.wait_for_url(f"**/projects/{project.pk}/work/")

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "work_page.png"), full_page=True)
        fill = page.get_by_test_id("goal-fill").bounding_box()
        track = page.locator("[data-testid=goal-bar] rect").first.bounding_box()
        assert fill["width"] == pytest.approx(track["width"] / 2, abs=1.5)  # 4 of 8
        bar = page.get_by_test_id("status-bar").bounding_box()
        done = page.get_by_test_id("status-seg-done").bounding_box()
        assert done["width"] == pytest.approx(bar["width"] * 4 / 8, abs=1.5)
        bar = page.get_by_test_id("split-bar").bounding_box()
        segments = page.locator("[data-testid=split-bar] rect")
        assert segments.count() >= 1
        widths = [
            segments.nth(i).bounding_box()["width"] for i in range(segments.count())
        ]
        assert sum(widths) == pytest.approx(bar["width"], abs=1.5)

        row = page.get_by_test_id(f"annotator-{users[Role.ANNOTATOR].username}")
        row.get_by_test_id("fig-ann-items").click()
        page.wait_for_url("**/items/?labelled_by=*")
        grid = page.get_by_test_id("item-grid")
        expected = {items[k].pk for k in ("a", "b", "c")}
        shown = {
            int(t.removeprefix("item-"))
            for t in grid.locator("li.thumb").evaluate_all(
                "els => els.map(e => e.dataset.testid)"
            )
        }
        assert shown == expected
        sync_api.expect(page.get_by_test_id("work-filter")).to_contain_text(
            "labelled by"
        )
        browser.close()
    assert not failed, failed
