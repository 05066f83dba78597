"""Consensus in Chromium: two annotators label the same item differently (the
second does not see the first's shapes), the reviewer gets that disagreement
before a single-labelled item of higher priority, sees both versions and
approves the first annotator's."""

import shutil

import pytest

from tests.browser.chromium import login
from tests.browser.test_label_review import open_task_page, shapes, shot, to_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def draw_box(page, label_key, a, b):
    page.keyboard.press(label_key)
    page.keyboard.press("b")
    page.mouse.move(*to_page(page, *a))
    page.mouse.down()
    page.mouse.move(*to_page(page, *b), steps=6)
    page.mouse.up()


def test_two_annotators_disagree_and_the_reviewer_sees_it_first(browser, live_server):
    from alweb.roles import Role
    from annotate.models import Annotation, Item, Pipeline
    from annotate.services.labeling import task_submit
    from annotate.services.queue import queue_claim_next
    from tests.factories import UserFactory, add_member, make_items, make_project

    project = make_project(UserFactory(username="owner"), name="Consensus")
    ann = add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    add_member(project, Role.ANNOTATOR, UserFactory(username="ann2"))
    add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    single, item = make_items(project, 2, size=(320, 240))
    # A single-labelled item of higher priority, already waiting for review.
    Item.objects.filter(pk=single.pk).update(priority=100.0)
    Item.objects.filter(pk=item.pk).update(priority=-100.0)
    task = queue_claim_next(project=project, user=ann, kind="label")
    assert task.item_id == single.pk
    cat = {"kind": "box", "label": "circle", "bbox": [10, 10, 50, 50]}
    task_submit(task=task, shapes=[cat])
    Pipeline.objects.filter(project=project).update(consensus_share=1.0)
    label_url = f"{live_server.url}/projects/{project.pk}/label/"
    review_url = f"{live_server.url}/projects/{project.pk}/review/"
    expect = sync_api.expect

    first = login(browser, live_server.url, "ann")
    open_task_page(first, label_url)
    expect(first.get_by_test_id("why-here")).to_contain_text(item.original_name)
    first.get_by_test_id("stage").focus()
    draw_box(first, "1", (20, 20), (120, 100))  # circle
    assert [s["label"] for s in shapes(first)] == ["circle"]
    # The page moves on at once (preloading); the answer comes behind it.
    with first.expect_response(lambda r: r.url.endswith("/submit/")):
        first.get_by_test_id("submit").click()
    expect(first.get_by_test_id("queue-empty")).to_be_visible()
    assert Item.objects.get(pk=item.pk).status == "unlabeled"

    second = login(browser, live_server.url, "ann2")
    open_task_page(second, label_url)
    expect(second.get_by_test_id("why-here")).to_contain_text(item.original_name)
    assert shapes(second) == []  # not the first annotator's box
    second.get_by_test_id("stage").focus()
    draw_box(second, "3", (150, 120), (300, 220))  # triangle, elsewhere
    assert [s["label"] for s in shapes(second)] == ["triangle"]
    with second.expect_response(lambda r: r.url.endswith("/submit/")):
        second.get_by_test_id("submit").click()
    expect(second.get_by_test_id("queue-empty")).to_be_visible()
    item.refresh_from_db()
    assert (item.status, item.agreement) == ("review", 0.0)

    rev = login(browser, live_server.url, "rev")
    open_task_page(rev, review_url)
    expect(rev.get_by_test_id("why-here")).to_contain_text(item.original_name)
    expect(rev.get_by_test_id("consensus-agreement")).to_have_text(
        "Two annotators, agreement 0%"
    )
    buttons = rev.get_by_test_id("consensus-use")
    expect(buttons).to_have_count(2)
    expect(buttons.nth(0)).to_contain_text("ann's version (1 shape)")
    expect(buttons.nth(1)).to_contain_text("ann2's version (1 shape)")
    assert [s["label"] for s in shapes(rev)] == ["triangle"]
    shot(rev, "consensus_review")
    buttons.nth(0).click()
    assert [s["label"] for s in shapes(rev)] == ["circle"]
    with rev.expect_response(lambda r: r.url.endswith("/approve/")):
        rev.get_by_test_id("approve").click()
    # Then the single-labelled item, which shows no consensus panel.
    expect(rev.get_by_test_id("why-here")).to_contain_text(single.original_name)
    expect(rev.get_by_test_id("consensus")).to_be_hidden()
    item.refresh_from_db()
    assert item.status == "done"
    boxes = Annotation.objects.filter(item=item)
    assert [(a.label, [round(v) for v in a.geometry["bbox"]]) for a in boxes] == [
        ("circle", [20, 20, 100, 80])
    ]
    assert not (first.errors or second.errors or rev.errors)
