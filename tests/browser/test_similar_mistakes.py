"""Find similar mistakes in Chromium: a reviewer fixes a flagged label, then
from the fixed error flags its nearest labelled items; they enter the
re-review queue, each card saying which confirmed error it resembles."""

import os
import shutil

import pytest

from tests.browser.chromium import launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def _world(project):
    """Eight ground-truth items: the seed, three near it, four far; the seed
    flagged."""
    from annotate.models import Item, LabelErrorFlag
    from annotate.services.labeling import items_make_ground_truth
    from tests.factories import make_items

    items = make_items(project, 8)
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    vectors = [[1, 0, 0], [1, 0.02, 0], [1, 0.04, 0], [1, 0, 0.06]]
    vectors += [[0, 1, 0.1 * n] for n in range(4)]
    for item, vec in zip(items, vectors, strict=True):
        Item.objects.filter(pk=item.pk).update(embedding=[float(v) for v in vec])
    flag = LabelErrorFlag.objects.create(
        project=project,
        item=items[0],
        model_version_id=1,
        model_name="v1",
        kind="wrong_class",
        score=0.9,
        candidates=[{"kind": "wrong_class", "score": 0.9, "reason": "a circle?"}],
    )
    return items, flag


def test_a_fixed_error_brings_its_look_alikes_into_the_queue(browser, live_server):
    from alweb.roles import Role
    from annotate.models import Event, LabelErrorFlag
    from tests.factories import UserFactory, add_member, make_project

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Similar mistakes")
    add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    items, flag = _world(project)
    expect = sync_api.expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "rev")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/projects/")
    page.goto(f"{live_server.url}/projects/{project.pk}/review/label-errors/")
    expect(page.get_by_test_id("label-error-card")).to_have_count(1)
    page.get_by_test_id("label-error-fix").click()
    expect(page.get_by_test_id("label-errors-empty")).to_be_visible()
    fixed = page.get_by_test_id("fixed-flag")
    expect(fixed).to_have_count(1)
    fixed.locator("input[name=k]").fill("3")
    fixed.get_by_test_id("label-error-similar").click()
    cards = page.get_by_test_id("label-error-card")
    expect(cards).to_have_count(3)
    expect(page.get_by_text("Flagged 3 items similar to")).to_be_visible()
    shown = {int(cards.nth(n).get_attribute("data-item")) for n in range(3)}
    assert shown == {i.pk for i in items[1:4]}
    for n in range(3):
        expect(cards.nth(n).get_by_test_id("label-error-reason")).to_contain_text(
            f"similar to item {items[0].pk}'s confirmed label error (wrong_class"
        )
        expect(cards.nth(n).get_by_test_id("label-error-kind")).to_have_text("similar")
    # The reviewer answers one of them like any flag.
    page.keyboard.press("c")
    expect(page.get_by_test_id("label-error-card")).to_have_count(2)
    assert (
        LabelErrorFlag.objects.filter(kind="similar", status="confirmed").count() == 1
    )
    event = Event.objects.get(verb="label_error_similar_flagged")
    assert event.actor.username == "rev" and event.data["flag"] == flag.pk
    assert errors == []
    context.close()
