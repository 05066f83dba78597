"""Label and review pages end to end in Chromium: draw, relabel, submit, reject,
fix, resubmit, approve; claiming by POST (script) or the form (no script)."""

import shutil
from pathlib import Path

import pytest

from tests.browser.chromium import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def open_task_page(page, url):
    page.goto(url)
    page.wait_for_function("() => window.alwebTask !== undefined", timeout=15000)


def to_page(page, x, y):
    box = page.get_by_test_id("canvas").bounding_box()
    v = page.evaluate("window.alwebPage.canvas().getView()")
    return box["x"] + v["ox"] + x * v["scale"], box["y"] + v["oy"] + y * v["scale"]


def shapes(page):
    return page.evaluate("window.alwebPage.canvas().getShapes()")


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"label_review_{name}.png"))


def test_label_reject_fix_approve_round_trip(browser, live_server):
    from alweb.roles import Role
    from annotate.models import Annotation, Item
    from tests.factories import UserFactory, add_member, make_items, make_project

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Shapes")
    add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    (item,) = make_items(project, 1, size=(320, 240))
    label_url = f"{live_server.url}/projects/{project.pk}/label/"
    review_url = f"{live_server.url}/projects/{project.pk}/review/"
    expect = sync_api.expect

    ann = login(browser, live_server.url, "ann")
    open_task_page(ann, label_url)
    expect(ann.get_by_test_id("tab-label")).to_be_visible()
    expect(ann.get_by_test_id("why-here")).to_contain_text(item.original_name)
    ann.keyboard.press("b")
    a, b = to_page(ann, 20, 20), to_page(ann, 120, 100)
    ann.mouse.move(*a)
    ann.mouse.down()
    ann.mouse.move(*b, steps=6)
    ann.mouse.up()
    ann.keyboard.press("p")
    ann.keyboard.press("3")  # the label of the next shape: third label
    for x, y in [(160, 40), (280, 60), (220, 180)]:
        ann.mouse.click(*to_page(ann, x, y))
    ann.keyboard.press("Enter")
    drawn = shapes(ann)
    assert [s["kind"] for s in drawn] == ["box", "polygon"]
    assert [s["label"] for s in drawn] == ["circle", "triangle"]
    expect(ann.get_by_test_id("save-status")).to_have_attribute(
        "data-state", "saved", timeout=5000
    )
    shot(ann, "1_label_drawn")
    ann.get_by_test_id("submit").click()
    expect(ann.get_by_test_id("queue-empty")).to_be_visible()
    shot(ann, "2_label_empty")
    assert Item.objects.get(pk=item.pk).status == "review"

    rev = login(browser, live_server.url, "rev")
    open_task_page(rev, review_url)
    expect(rev.get_by_test_id("authors")).to_contain_text("ann")
    rev.get_by_test_id("reject").click()
    expect(rev.get_by_test_id("reject-error")).to_contain_text("required")
    rev.get_by_test_id("reject-comment").fill("The box is too loose")
    shot(rev, "3_review_reject")
    rev.get_by_test_id("reject").click()
    expect(rev.get_by_test_id("queue-empty")).to_be_visible()

    open_task_page(ann, label_url)
    expect(ann.get_by_test_id("review-comment")).to_contain_text("too loose")
    assert len(shapes(ann)) == 2
    shot(ann, "4_label_rejected")
    ann.get_by_test_id("stage").focus()
    ann.keyboard.press("v")
    ann.keyboard.press("n")  # select the box
    ann.keyboard.press("Delete")
    ann.keyboard.press("b")
    a, b = to_page(ann, 30, 30), to_page(ann, 100, 90)
    ann.mouse.move(*a)
    ann.mouse.down()
    ann.mouse.move(*b, steps=6)
    ann.mouse.up()
    ann.keyboard.press("Control+Enter")
    expect(ann.get_by_test_id("queue-empty")).to_be_visible()

    open_task_page(rev, review_url)
    expect(rev.get_by_test_id("review-comment")).to_contain_text("too loose")
    shot(rev, "5_review_approve")
    rev.get_by_test_id("approve").click()
    expect(rev.get_by_test_id("queue-empty")).to_be_visible()
    shot(rev, "6_review_empty")

    item.refresh_from_db()
    assert item.status == "done" and item.split in {"train", "val", "test"}
    boxes = Annotation.objects.filter(item=item, kind="box")
    assert [round(v) for v in boxes.get().geometry["bbox"]] == [30, 30, 70, 60]
    assert not ann.errors and not rev.errors, (ann.errors, rev.errors)


def test_pages_claim_by_post_and_without_script_by_the_form(browser, live_server):
    from alweb.roles import Role
    from annotate.models import Item, Task
    from tests.factories import UserFactory, add_member, make_items, make_project

    project = make_project(UserFactory(username="owner"), name="Shapes")
    add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    rev_user = add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    first, second = make_items(project, 2, size=(320, 240))
    Item.objects.filter(pk=second.pk).update(status="review")
    label_url = f"{live_server.url}/projects/{project.pk}/label/"
    review_url = f"{live_server.url}/projects/{project.pk}/review/"
    expect = sync_api.expect

    # Without script: the page claims nothing until its form is posted.
    plain = login(browser, live_server.url, "ann", java_script_enabled=False)
    plain.goto(label_url)
    expect(plain.get_by_test_id("claim")).to_be_visible()
    shot(plain, "0_label_no_script")
    assert not Task.objects.exists()
    plain.get_by_test_id("claim").click()
    plain.wait_for_url(label_url)
    expect(plain.get_by_test_id("queue-start")).to_be_hidden()
    held = Task.objects.get()
    assert (held.item_id, held.assignee.username) == (first.pk, "ann")
    lease = held.lease_expires_at

    # With script, the same user resumes the held task: one POST renews its lease.
    ann = login(browser, live_server.url, "ann")
    claims = []
    ann.on(
        "request",
        lambda r: "/tasks/next/" in r.url and claims.append((r.method, r.url)),
    )
    open_task_page(ann, label_url)
    assert ann.evaluate("window.alwebTask.id") == held.pk
    expect(ann.get_by_test_id("why-here")).to_contain_text(first.original_name)
    assert [m for m, _ in claims] == ["POST"]
    held.refresh_from_db()
    assert held.lease_expires_at > lease and Task.objects.count() == 1
    shot(ann, "7_label_resumed")
    ann.get_by_test_id("submit").click()
    ann.get_by_test_id("confirm-yes").click()  # an item with no shapes asks first
    expect(ann.get_by_test_id("queue-empty")).to_be_visible()
    (third,) = make_items(project, 1, start_seed=7, size=(320, 240))
    ann.get_by_test_id("check-again").click()  # a POST through the API
    expect(ann.get_by_test_id("why-here")).to_contain_text(third.original_name)
    assert [m for m, _ in claims] == ["POST"] * 3

    # The review page claims the same way: its script POSTs once.
    rev = login(browser, live_server.url, "rev")
    claims.clear()
    rev.on(
        "request",
        lambda r: "/tasks/next/" in r.url and claims.append((r.method, r.url)),
    )
    open_task_page(rev, review_url)
    review = Task.objects.get(kind="review")
    assert rev.evaluate("window.alwebTask.id") == review.pk
    assert review.item_id in (first.pk, second.pk) and review.assignee == rev_user
    assert [m for m, _ in claims] == ["POST"]
    assert not ann.errors and not rev.errors, (ann.errors, rev.errors)
