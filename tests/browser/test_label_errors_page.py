"""The re-review queue in Chromium: a reviewer sees the flagged items best
first with the approved shapes and the model's prediction drawn, confirms
one label with the keyboard (c) and reopens the other with the Fix button."""

import shutil
from pathlib import Path

import pytest

from tests.browser.chromium import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _flags(project, owner):
    from annotate.demo_data import synthetic_image
    from annotate.models import LabelErrorFlag
    from annotate.services.annotations import annotations_replace, shapes_validate
    from annotate.services.labeling import items_make_ground_truth
    from tests.factories import make_items

    items = make_items(project, 2, size=(320, 240))
    for n, item in enumerate(items):
        shapes = synthetic_image(n, 320, 240).shapes
        annotations_replace(
            item=item, shapes=shapes_validate(item=item, shapes=shapes), author=owner
        )
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    flags = []
    for item, score in zip(items, (0.9, 0.6), strict=True):
        candidate = {
            "kind": "missing_label",
            "score": score,
            "reason": "a confident triangle with no label",
            "label": None,
            "predicted": "triangle",
            "iou": 0.0,
            "confidence": score,
            "gt_index": None,
            "pred_index": 0,
            "gt_bbox": None,
            "pred_bbox": [250.0, 170.0, 40.0, 40.0],
        }
        flags.append(
            LabelErrorFlag.objects.create(
                project=project,
                item=item,
                model_version_id=1,
                model_name="v1",
                kind="missing_label",
                score=score,
                candidates=[candidate],
            )
        )
    return flags


def test_a_reviewer_confirms_one_flag_and_fixes_another(browser, live_server):
    from alweb.roles import Role
    from annotate.models import Event, Item, LabelErrorFlag
    from tests.factories import UserFactory, add_member, make_project

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Flags")
    add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    top, second = _flags(project, owner)
    expect = sync_api.expect

    page = login(browser, live_server.url, "rev")
    errors = page.errors
    page.goto(f"{live_server.url}/projects/{project.pk}/")
    page.get_by_test_id("tab-label-errors").click()
    page.wait_for_url("**/review/label-errors/")
    cards = page.get_by_test_id("label-error-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_have_attribute("data-flag", str(top.pk))
    expect(cards.first.get_by_test_id("predicted-shape")).to_have_count(1)
    assert cards.first.get_by_test_id("approved-shape").count() >= 1
    # The image loads behind the membership check.
    loaded = page.evaluate(
        "() => fetch(document.querySelector('svg image').getAttribute('href'))"
        ".then(r => r.status)"
    )
    assert loaded == 200
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "label_errors_1.png"), full_page=True)

    page.keyboard.press("c")  # confirm the current (top) flag
    page.wait_for_load_state("load")
    expect(page.get_by_test_id("label-error-card")).to_have_count(1)
    top.refresh_from_db()
    assert top.status == "confirmed" and top.resolved_by.username == "rev"

    card = page.get_by_test_id("label-error-card")
    card.locator("input[name=comment]").fill("add the triangle")
    card.get_by_test_id("label-error-fix").click()
    expect(page.get_by_test_id("label-errors-empty")).to_be_visible()
    second.refresh_from_db()
    assert second.status == "fixed"
    item = Item.objects.get(pk=second.item_id)
    assert item.status == "unlabeled" and item.review_comment == "add the triangle"
    assert Event.objects.filter(verb="item_reopened", item=item).exists()
    assert LabelErrorFlag.objects.filter(status="open").count() == 0
    page.screenshot(path=str(ARTIFACTS / "label_errors_2.png"), full_page=True)
    assert errors == []
    page.context.close()
