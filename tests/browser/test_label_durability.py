"""The label page in Chromium when saves race or answers get lost: two tabs on
the same task (the later save is refused with a conflict in the status line,
nothing overwritten, its shapes kept and offered back after a reload), a
submit whose answer is lost (retried with the same client id, applied once),
and a stylesheet that fails to load (the page's hidden parts stay hidden)."""

import json

import pytest

from tests.browser.chromium import login
from tests.browser.test_label_review import open_task_page, sync_api

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect = sync_api.expect

CANVAS = "window.alwebPage.canvas()"


def world():
    from alweb.roles import Role
    from tests.factories import UserFactory, add_member, make_items, make_project

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Shapes")
    add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    (item,) = make_items(project, 1, size=(320, 240))
    return project, item


def box(x):
    return {"kind": "box", "label": "circle", "bbox": [x, 10, 40, 30]}


def save(page, shapes):
    """Put `shapes` on the canvas and save now (the autosave, without its wait);
    the PUT's answer."""
    page.evaluate(f"s => {CANVAS}.replaceShapes(s)", shapes)
    with page.expect_response(lambda r: r.url.endswith("/draft/")) as answer:
        page.evaluate("window.alwebPage.save()")
    return answer.value


def test_a_second_tab_saving_from_an_old_version_shows_a_conflict(browser, live_server):
    from annotate.models import Task

    project, _ = world()
    url = f"{live_server.url}/projects/{project.pk}/label/"
    one = login(browser, live_server.url, "ann")
    open_task_page(one, url)
    two = one.context.new_page()  # the same session: a second tab
    two.errors = []
    two.on("pageerror", lambda e: two.errors.append(str(e)))
    open_task_page(two, url)
    task = one.evaluate("window.alwebTask.id")
    assert two.evaluate("window.alwebTask.id") == task

    assert save(one, [box(10)]).status == 200
    refused = save(two, [box(100)])
    assert refused.status == 409 and refused.json()["version"] == 1
    status = two.get_by_test_id("save-status")
    expect(status).to_have_attribute("data-state", "conflict")
    expect(status).to_contain_text("Conflict")
    expect(two.get_by_test_id("save-alert")).to_contain_text("another tab")
    assert Task.objects.get(pk=task).draft[0]["bbox"] == [10, 10, 40, 30]

    # The first tab goes on saving; the second tab's shapes stay in the browser.
    assert save(one, [box(20)]).status == 200
    two.reload()
    open_task_page(two, url)
    expect(two.get_by_test_id("restore-draft")).to_be_visible()
    two.get_by_test_id("restore-draft").click()
    expect(status).to_have_attribute("data-state", "saved")
    assert Task.objects.get(pk=task).draft[0]["bbox"] == [100, 10, 40, 30]
    assert not one.errors and not two.errors, one.errors + two.errors


def test_a_submit_whose_answer_is_lost_is_retried_and_applied_once(
    browser, live_server
):
    from annotate.models import Annotation, Event, Item

    project, item = world()
    url = f"{live_server.url}/projects/{project.pk}/label/"
    page = login(browser, live_server.url, "ann")
    open_task_page(page, url)
    assert save(page, [box(10)]).status == 200
    sent = []

    def lose_the_first_answer(route):
        sent.append(json.loads(route.request.post_data))
        if len(sent) == 1:
            route.fetch()  # the server applies it; the answer never arrives
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/submit/", lose_the_first_answer)
    # "Nothing to label" shows only once the queue is empty, not before.
    expect(page.get_by_test_id("queue-empty")).to_be_hidden()
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    assert len(sent) == 2, sent
    assert sent[0]["client_id"] == sent[1]["client_id"]
    assert len(sent[0]["client_id"]) == 32 and sent[0]["version"] == 1
    assert Item.objects.get(pk=item.pk).status == "review"
    assert Event.objects.filter(verb="label_submitted", item_id=item.pk).count() == 1
    boxes = [a.geometry["bbox"] for a in Annotation.objects.filter(item=item)]
    assert boxes == [[10, 10, 40, 30]]
    assert not page.errors, page.errors


def test_the_page_hides_what_it_should_when_its_stylesheet_fails_to_load(
    browser, live_server
):
    """Hidden parts of the page carry the `hidden` attribute, which the
    browser's own sheet hides: with app.css lost, "Nothing to label", the claim
    panel and the empty alert all showed beside the task."""
    project, _ = world()
    page = login(browser, live_server.url, "ann")
    page.route("**/app.css", lambda route: route.abort())
    lost = []
    page.on("requestfailed", lambda r: lost.append(r.url))
    open_task_page(page, f"{live_server.url}/projects/{project.pk}/label/")
    assert any(url.endswith("/app.css") for url in lost), lost
    expect(page.get_by_test_id("canvas")).to_be_visible()
    for hidden in (
        "queue-empty",
        "queue-start",
        "save-alert",
        "restore-draft",
        "relogin-link",
        "review-comment",
    ):
        expect(page.get_by_test_id(hidden)).to_be_hidden()
    assert not page.errors, page.errors
