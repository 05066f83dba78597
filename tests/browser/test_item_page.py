"""The item browser and the item page in Chromium: a thumbnail opens the item
page with its shapes drawn, a bulk action from the grid, and a reopened item
goes through labelling and review again."""

import shutil
from pathlib import Path

import pytest

from tests.browser.chromium import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"item_page_{name}.png"), full_page=True)


def test_thumbnail_opens_item_page_and_reopened_item_is_reviewed_again(
    browser, live_server
):
    from alweb.roles import Role
    from annotate.demo_data import synthetic_image
    from annotate.models import Event, Item
    from annotate.services.annotations import annotations_replace, shapes_validate
    from annotate.services.labeling import items_make_ground_truth
    from tests.factories import UserFactory, add_member, make_items, make_project

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Shapes")
    add_member(project, Role.ANNOTATION_MANAGER, UserFactory(username="mgr"))
    add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    done, waiting = make_items(project, 2, size=(320, 240))
    drawn = synthetic_image(0, 320, 240).shapes  # its own image's shapes
    annotations_replace(
        item=done, shapes=shapes_validate(item=done, shapes=drawn), author=owner
    )
    items_make_ground_truth(project=project, item_ids=[done.pk])
    done.refresh_from_db()
    split = done.split
    base = live_server.url
    expect = sync_api.expect

    mgr = login(browser, live_server.url, "mgr")
    mgr.goto(f"{base}/projects/{project.pk}/items/")
    shot(mgr, "1_grid")
    # A bulk action from the grid: pin the waiting item.
    mgr.get_by_test_id(f"pick-{waiting.pk}").check()
    mgr.get_by_test_id("bulk-action").select_option("pin")
    mgr.get_by_test_id("bulk-apply").click()
    expect(mgr.locator(".msg.success")).to_contain_text("1 item")
    waiting.refresh_from_db()
    assert waiting.pin == "pinned"

    mgr.get_by_test_id(f"open-{done.pk}").click()
    mgr.wait_for_url(f"**/projects/{project.pk}/items/{done.pk}/")
    expect(mgr.get_by_test_id("item-title")).to_have_text(done.original_name)
    expect(mgr.get_by_test_id("item-overlay-shape")).to_have_count(len(drawn))
    image_ok = mgr.evaluate(
        """() => fetch(document.querySelector('[data-testid=item-overlay] image')
                 .getAttribute('href')).then(r => r.ok)"""
    )
    assert image_ok
    shot(mgr, "2_done_item")
    mgr.fill("input[name=comment]", "tighten the boxes")
    mgr.get_by_test_id("reopen").click()
    expect(mgr.get_by_test_id("item-status")).to_contain_text("Unlabeled")
    expect(mgr.get_by_test_id("event-item_reopened")).to_contain_text(
        f"{len(drawn)} approved shape"
    )
    shot(mgr, "3_reopened")
    done.refresh_from_db()
    assert (done.status, done.split, done.held_split) == ("unlabeled", None, split)

    # Labelling again: the annotator gets the reopened item (the pinned one is
    # demoted out of the way first) with its old shapes, and submits them.
    Item.objects.filter(pk=waiting.pk).update(status="skipped")
    ann = login(browser, live_server.url, "ann")
    ann.goto(f"{base}/projects/{project.pk}/label/")
    ann.wait_for_function("() => window.alwebTask !== undefined", timeout=15000)
    expect(ann.get_by_test_id("why-here")).to_contain_text(done.original_name)
    expect(ann.get_by_test_id("review-comment")).to_contain_text("tighten")
    assert len(ann.evaluate("window.alwebPage.canvas().getShapes()")) == len(drawn)
    ann.get_by_test_id("submit").click()
    expect(ann.get_by_test_id("queue-empty")).to_be_visible()
    assert Item.objects.get(pk=done.pk).status == "review"

    # Review again, then approval gives the split back.
    rev = login(browser, live_server.url, "rev")
    rev.goto(f"{base}/projects/{project.pk}/review/")
    rev.wait_for_function("() => window.alwebTask !== undefined", timeout=15000)
    rev.get_by_test_id("approve").click()
    expect(rev.get_by_test_id("queue-empty")).to_be_visible()
    done.refresh_from_db()
    assert (done.status, done.split, done.held_split) == ("done", split, None)

    mgr.reload()
    expect(mgr.get_by_test_id("item-status")).to_contain_text("Done")
    expect(mgr.get_by_test_id("item-history")).to_contain_text("Approved")
    # Both versions drawn: the one the reopen replaced and the one submitted since.
    expect(mgr.get_by_test_id("version-overlay")).to_have_count(2)
    expect(mgr.get_by_test_id("label-versions")).to_contain_text("replaced by a reopen")
    shot(mgr, "4_approved_again")
    verbs = list(
        Event.objects.filter(item=done).order_by("id").values_list("verb", flat=True)
    )
    reopened = verbs.index("item_reopened")
    assert verbs[reopened:] == [
        "item_reopened",
        "label_claimed",
        "label_submitted",
        "review_claimed",
        "review_approved",
    ]
    assert not mgr.errors and not ann.errors and not rev.errors


def test_error_pages_are_styled_with_navigation(browser, live_server):
    from alweb.roles import Role
    from tests.factories import UserFactory, add_member, make_project

    project = make_project(UserFactory(username="owner"), name="Shapes")
    add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    expect = sync_api.expect
    ann = login(browser, live_server.url, "ann")
    for path, code in [
        (f"/projects/{project.pk}/items/", 403),
        ("/projects/999999/", 404),
        (f"/projects/{project.pk}/items/bulk/", 405),
        ("/admin/", 403),
    ]:
        response = ann.goto(f"{live_server.url}{path}")
        assert response.status == code, (path, response.status)
        expect(ann.get_by_test_id("error-page")).to_contain_text(str(code))
        expect(ann.get_by_test_id("error-nav")).to_contain_text("Your projects")
        shot(ann, f"error_{code}_{path.strip('/').replace('/', '_')}")
    ann.get_by_role("link", name="Your projects").click()
    ann.wait_for_url("**/projects/")
    assert not ann.errors
