"""The model-version pages in Chromium: the training curves, per-class AP bars and
confusion heat maps render as non-empty SVG with axes, on the version page and
on the comparison of two versions; screenshots go to artifacts/."""

import os
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _check_chart(page, testid: str) -> None:
    chart = page.locator(f'svg[data-testid="{testid}"]')
    sync_api.expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 100, (testid, box)
    assert chart.locator(".axis-x text").count() >= 2, testid
    assert chart.locator(".axis-y text").count() >= 2, testid
    drawn = chart.locator("circle, rect.bar, .cells rect").count()
    assert drawn >= 2, (testid, drawn)
    assert chart.locator("text.empty").count() == 0, testid


def test_version_and_compare_pages_draw_their_charts(live_server):
    from models_mgmt.models import Evaluation
    from models_mgmt.services.versions import model_version_promote
    from tests.factories import UserFactory, make_project
    from tests.models_mgmt.test_version_pages import LABELS, _version

    owner = UserFactory(username="charts-owner")
    project = make_project(owner, name="Charts", labels=LABELS)
    v1 = _version(project, 1, map50=0.42)
    v2 = _version(project, 2, parent=v1, map50=0.58)
    model_version_promote(version=v2, actor=owner)
    counts = {"items": 4, "true_positive": 6, "false_positive": 1, "missed": 2}
    Evaluation.objects.filter(model_version=v2).update(
        error_stats={"by_pick": {"random": counts, "strategy": {**counts, "missed": 4}}}
    )
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        from tests.browser.chromium import launch_chromium

        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live_server.url}/projects/{project.pk}/models/")
        page.fill("input[name=username]", "charts-owner")
        page.fill("input[name=password]", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.wait_for_url(f"**/projects/{project.pk}/models/")
        page.click('[data-testid="version-row-v2"] a:text("v2")')
        page.wait_for_url(f"**/projects/{project.pk}/models/v2/")
        for testid in (
            "chart-losses",
            "chart-val-metrics",
            "chart-per-class",
            "chart-confusion",
        ):
            _check_chart(page, testid)
        page.screenshot(path=str(ARTIFACTS / "model_version.png"), full_page=True)

        page.select_option("select[name=b]", "1")
        page.get_by_role("button", name="Compare", exact=True).click()
        page.wait_for_url(lambda url: url.endswith("/models/compare/?a=2&b=1"))
        for testid in (
            "chart-compare-metrics",
            "chart-compare-per-class",
            "chart-confusion-a",
            "chart-confusion-b",
            "chart-learning-curve",
            "chart-pick-curve",
        ):
            _check_chart(page, testid)
        delta = page.locator('[data-testid="compare-metrics"] td.down').first
        sync_api.expect(delta).to_have_text("-0.160")
        page.screenshot(path=str(ARTIFACTS / "model_compare.png"), full_page=True)

        page.click('[data-testid="tab-pipeline"]')
        page.wait_for_url(f"**/projects/{project.pk}/pipeline/")
        nodes = page.locator(".flow .node")
        sync_api.expect(nodes).to_have_count(11)
        promote = page.locator('[data-testid="node-promote"]')
        sync_api.expect(promote).to_contain_text("v2")
        page.screenshot(path=str(ARTIFACTS / "pipeline.png"), full_page=True)
        browser.close()
    assert errors == [], errors
