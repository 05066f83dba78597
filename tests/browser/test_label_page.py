"""The label and review pages in Chromium against a live server: focus after
buttons, empty submits, local drafts of a polygon, the window-filling layout,
review defaults and hotkeys, a keyboard-only run and preloading. Waits are on
DOM state and page events, never on fixed sleeps."""

import pytest

from tests.browser.chromium import PASSWORD, login
from tests.browser.seeding import seed_predictions
from tests.browser.test_label_review import (
    ARTIFACTS,
    open_task_page,
    shapes,
    sync_api,
    to_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect = sync_api.expect


def world(n=2, *, predictions=True, size=(320, 240)):
    from alweb.roles import Role
    from tests.factories import UserFactory, add_member, make_items, make_project

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Shapes")
    add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    add_member(project, Role.REVIEWER, UserFactory(username="rev"))
    items = make_items(project, n, size=size)
    if predictions:
        seed_predictions(
            project,
            owner,
            {
                item: [
                    {"kind": "box", "label": "rectangle", "bbox": [20, 20, 80, 60],
                     "confidence": 0.9},
                    {"kind": "box", "label": "circle", "bbox": [150, 100, 60, 60],
                     "confidence": 0.2},
                ]
                for item in items
            },
        )  # fmt: skip
    return project, items


def urls(live_server, project):
    base = f"{live_server.url}/projects/{project.pk}"
    return f"{base}/label/", f"{base}/review/"


def focused(page):
    return page.evaluate("document.activeElement?.dataset.testid")


def wait_task(page, previous):
    page.wait_for_function(
        "p => window.alwebTask && window.alwebTask.id !== p", arg=previous
    )
    return page.evaluate("window.alwebTask.id")


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"label_page_{name}.png"))


def test_focus_returns_to_the_canvas_after_skip_and_submit_and_a_accepts(
    browser, live_server
):
    project, _ = world(3)
    label_url, _ = urls(live_server, project)
    page = login(browser, live_server.url, "ann")
    open_task_page(page, label_url)
    first = page.evaluate("window.alwebTask.id")
    page.get_by_test_id("skip").click()
    second = wait_task(page, first)
    assert focused(page) == "stage"
    page.evaluate("window.alwebPage.canvas().setConfidenceThreshold(0.5)")
    page.keyboard.press("a")  # accept all at or above the threshold
    got = shapes(page)
    assert [(s["label"], s["source"]) for s in got] == [("rectangle", "human")]
    page.get_by_test_id("submit").click()
    wait_task(page, second)
    assert focused(page) == "stage"
    page.keyboard.press("a")
    assert [s["source"] for s in shapes(page)] == ["human"]  # threshold kept
    assert not page.errors, page.errors


def test_submit_keeps_the_pre_annotations_shown_and_drops_the_hidden_ones(
    browser, live_server
):
    from annotate.models import Item

    project, items = world(1)
    label_url, _ = urls(live_server, project)
    page = login(browser, live_server.url, "ann")
    open_task_page(page, label_url)
    task = page.evaluate("window.alwebTask.id")
    # 0.9 shown, 0.2 below the threshold: never seen, so never submitted.
    page.evaluate("window.alwebPage.canvas().setConfidenceThreshold(0.5)")
    with page.expect_response(lambda r: r.url.endswith(f"/tasks/{task}/submit/")):
        page.get_by_test_id("submit").click()
    kept = list(Item.objects.get(pk=items[0].pk).annotations.values("label", "source"))
    assert kept == [{"label": "rectangle", "source": "model"}]
    assert not page.errors, page.errors


def test_the_threshold_starts_at_the_sites_default_and_the_browser_keeps_its_own(
    browser, live_server
):
    project, _ = world(2)
    label_url, _ = urls(live_server, project)
    page = login(browser, live_server.url, "ann")
    open_task_page(page, label_url)
    # ALWEB_PREANNOTATION_THRESHOLD 0.25: the 0.2 circle is hidden at first.
    assert page.get_by_test_id("confidence-value").text_content() == "0.25"
    listed = page.evaluate("window.alwebPage.canvas().getSubmittable()")
    assert [s["label"] for s in listed] == ["rectangle"]
    page.get_by_test_id("confidence-slider").fill("0.1")
    page.reload()
    page.wait_for_function("() => window.alwebTask !== undefined", timeout=15000)
    assert page.get_by_test_id("confidence-value").text_content() == "0.10"
    listed = page.evaluate("window.alwebPage.canvas().getSubmittable()")
    assert sorted(s["label"] for s in listed) == ["circle", "rectangle"]
    assert not page.errors, page.errors


def test_an_empty_submit_asks_first_and_nothing_here_submits_on_purpose(
    browser, live_server
):
    from annotate.models import Annotation, Item, Task

    project, (item,) = world(1, predictions=False)
    label_url, _ = urls(live_server, project)
    page = login(browser, live_server.url, "ann")
    open_task_page(page, label_url)
    page.keyboard.press("Control+Enter")
    dialog = page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("no shapes")
    shot(page, "empty_confirm")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused(page) == "stage"
    assert Task.objects.get().status == "active"
    page.keyboard.press("Control+Shift+Enter")  # "nothing here": no question
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    assert Item.objects.get(pk=item.pk).status == "review"
    assert not Annotation.objects.filter(item=item).exists()


def test_a_polygon_being_drawn_and_the_label_survive_a_reload(browser, live_server):
    project, _ = world(1, predictions=False)
    label_url, _ = urls(live_server, project)
    page = login(browser, live_server.url, "ann")
    open_task_page(page, label_url)
    page.keyboard.press("3")
    page.keyboard.press("p")
    page.mouse.click(*to_page(page, 40, 40))
    page.mouse.click(*to_page(page, 200, 50))
    page.reload()
    page.wait_for_function("() => window.alwebTask && window.alwebTask.id")
    canvas = "window.alwebPage.canvas()"
    page.wait_for_function(f"() => {canvas} && {canvas}.getDrawing()")
    assert len(page.evaluate(f"{canvas}.getDrawing().points")) == 2
    assert page.evaluate(f"{canvas}.getLabel()") == "triangle"
    pressed = page.locator("[data-testid=label-option][aria-pressed=true]")
    expect(pressed).to_have_attribute("data-label", "triangle")
    page.mouse.click(*to_page(page, 120, 180))
    page.keyboard.press("Enter")
    (poly,) = shapes(page)
    assert poly["kind"] == "polygon" and poly["label"] == "triangle"
    assert len(poly["points"]) == 3


def test_the_page_fills_the_window_and_names_the_file(browser, live_server):
    from annotate.models import Item

    project, items = world(2)
    # A priority set by model version id 6, known to users as v2.
    reason = {"strategy": "hybrid", "model_version": 6, "model_name": "v2",
              "rank": 0, "in_batch": True, "control": False,
              "components": {"uncertainty": 0.8}}  # fmt: skip
    Item.objects.filter(pk__in=[i.pk for i in items]).update(
        scored_by=6, priority_reason=reason
    )
    label_url, _ = urls(live_server, project)
    page = login(browser, live_server.url, "ann")
    page.set_viewport_size({"width": 1440, "height": 900})
    open_task_page(page, label_url)
    stage = page.get_by_test_id("stage")
    why = page.get_by_test_id("why-here")
    task_item = page.evaluate("window.alwebPage.runner.task.item")
    expect(why).to_contain_text(task_item["name"])
    expect(why).to_contain_text("scored by v2")
    expect(why).to_contain_text("in the next batch of hybrid")
    expect(why).not_to_contain_text("v6")
    expect(why).not_to_contain_text(f"Item {task_item['id']}")
    for width, height in [(1440, 900), (1024, 700), (1280, 1000)]:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_function(
            """([w, h]) => {
              const r = document.querySelector('[data-testid=stage]')
                .getBoundingClientRect();
              return innerWidth === w && r.height > 0.55 * h;
            }""",
            arg=[width, height],
        )
        root = page.get_by_test_id("canvas-root").bounding_box()
        assert root["y"] + root["height"] <= height, (width, height, root)
        assert page.evaluate("document.documentElement.scrollHeight") <= height + 1
        box = stage.bounding_box()
        assert box["height"] > 0.55 * height and box["width"] > 0.6 * width
        if width != 1280:
            shot(page, f"label_{width}x{height}")


def test_review_uses_the_select_tool_says_edits_save_on_approve_and_has_keys(
    browser, live_server
):
    from annotate.models import Annotation, Item
    from annotate.services import labeling
    from annotate.services.queue import queue_claim_next

    project, items = world(2)
    from django.contrib.auth import get_user_model

    ann = get_user_model().objects.get(username="ann")
    for _ in items:
        task = queue_claim_next(project=project, user=ann, kind="label")
        box = {"kind": "box", "label": "rectangle", "bbox": [20, 20, 80, 60]}
        labeling.task_submit(task=task, shapes=[box])
    _, review_url = urls(live_server, project)
    page = login(browser, live_server.url, "rev")
    page.set_viewport_size({"width": 1440, "height": 900})
    open_task_page(page, review_url)
    first = page.evaluate("window.alwebTask.id")
    expect(page.get_by_test_id("tool-select")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("review-edit-note")).to_contain_text(
        "saved when you approve"
    )
    rows = page.get_by_test_id("shape-item")
    expect(rows.first).to_have_attribute("data-edited", "no")
    start = to_page(page, 60, 50)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 30, start[1] + 20, steps=5)
    page.mouse.up()
    expect(rows.first).to_have_attribute("data-edited", "edited")
    shot(page, "review_1440x900")
    page.set_viewport_size({"width": 1024, "height": 700})
    page.wait_for_function("innerWidth === 1024")
    shot(page, "review_1024x700")
    first_item = page.evaluate("window.alwebPage.runner.task.item.id")
    moved = shapes(page)[0]["bbox"]
    page.keyboard.press("Control+Enter")  # approve, with the edit
    second = wait_task(page, first)
    assert Item.objects.get(pk=first_item).status == "done"
    saved = Annotation.objects.get(item_id=first_item).geometry["bbox"]
    assert saved == pytest.approx(moved, abs=0.01) and saved != [20, 20, 80, 60]
    second_item = page.evaluate("window.alwebPage.runner.task.item.id")
    assert focused(page) == "stage"
    page.keyboard.press("r")
    assert focused(page) == "reject-comment"
    page.keyboard.type("The box misses the corner")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    rejected = Item.objects.get(pk=second_item)
    assert rejected.status == "unlabeled" and "corner" in rejected.review_comment
    assert second and not page.errors, page.errors


def test_keyboard_only_label_then_review(browser, live_server, settings):
    """No mouse at all: log in, fix a pre-annotation's class, accept the rest,
    draw a box with the arrows, submit; then review and approve with keys."""
    from annotate.models import Annotation, Item

    settings.ALWEB_PREANNOTATION_THRESHOLD = 0  # the 0.2 circle shown too

    project, (item,) = world(1)
    label_url, review_url = urls(live_server, project)

    def keyboard_login(username):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(f"{live_server.url}/accounts/login/")
        page.focus("input[name=username]")
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/projects/")
        return page

    page = keyboard_login("ann")
    open_task_page(page, label_url)
    assert focused(page) == "stage"  # the canvas takes the keys from the start
    keys = page.keyboard
    keys.press("Shift+N")  # the last shape: the circle pre-annotation
    keys.press("3")  # it is a triangle: relabelled (a human shape now)
    keys.press("Escape")
    keys.press("a")  # accept the rest
    keys.press("2")  # the label of the next shape
    keys.press("b")
    keys.press("ArrowDown")  # the cross appears at the centre
    keys.press("Enter")
    for _ in range(4):
        keys.press("ArrowRight")
        keys.press("ArrowDown")
    keys.press("Enter")
    got = shapes(page)
    assert [(s["label"], s["source"]) for s in got] == [
        ("rectangle", "human"),
        ("triangle", "human"),
        ("rectangle", "human"),
    ]
    keys.press("Control+Enter")
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    assert Item.objects.get(pk=item.pk).status == "review"

    rev = keyboard_login("rev")
    open_task_page(rev, review_url)
    assert focused(rev) == "stage"
    rev.keyboard.press("?")
    expect(rev.get_by_test_id("key-help")).to_contain_text("approve")
    rev.keyboard.press("Escape")
    rev.keyboard.press("Control+Enter")
    expect(rev.get_by_test_id("queue-empty")).to_be_visible()
    done = Item.objects.get(pk=item.pk)
    assert done.status == "done" and done.split in {"train", "val", "test"}
    assert sorted(
        Annotation.objects.filter(item=done).values_list("label", flat=True)
    ) == [
        "rectangle",
        "rectangle",
        "triangle",
    ]
    assert not page.errors and not rev.errors, (page.errors, rev.errors)


def _draw_box(page):
    page.keyboard.press("b")
    a, b = to_page(page, 120, 120), to_page(page, 200, 200)
    page.keyboard.down("Shift")  # a new box even over a pre-annotation
    page.mouse.move(*a)
    page.mouse.down()
    page.mouse.move(*b, steps=4)
    page.mouse.up()
    page.keyboard.up("Shift")


def test_the_next_item_is_preloaded_before_submit_and_shown_at_once(
    browser, live_server
):
    from django.contrib.auth import get_user_model

    from alweb.roles import Role
    from annotate.models import Item
    from annotate.services.queue import queue_claim_next
    from tests.factories import add_member

    project, items = world(4)
    for item, priority in zip(items, [4, 3, 2, 1], strict=True):
        Item.objects.filter(pk=item.pk).update(priority=priority)
    a, b, c, d = items
    label_url, _ = urls(live_server, project)
    page = login(browser, live_server.url, "ann")
    log = []
    page.on("request", lambda r: log.append((r.method, r.url)))
    page.add_init_script("""
        window.preloaded = [];
        window.shown = [];
        document.addEventListener('itemPreloaded',
          e => preloaded.push(e.detail.itemId));
        document.addEventListener('itemShown', e => shown.push(e.detail));
    """)
    page.goto(label_url)
    page.wait_for_function("() => window.alwebTask && window.alwebTask.id")
    assert page.evaluate("window.alwebPage.runner.task.item.id") == a.pk
    page.wait_for_function(f"() => preloaded.includes({b.pk})")
    _draw_box(page)
    page.keyboard.press("Control+Enter")
    page.wait_for_function(
        f"() => window.alwebPage.runner.task && "
        f"window.alwebPage.runner.task.item.id === {b.pk}"
    )
    peek_image = next(
        i for i, (m, u) in enumerate(log) if f"/tasks/peek/{b.pk}/image" in u
    )
    submit = next(i for i, (m, u) in enumerate(log) if u.endswith("/submit/"))
    assert log[peek_image][0] == "GET" and peek_image < submit
    assert not [u for _, u in log if f"/items/{b.pk}/image" in u]  # not fetched again
    shown_b = [s for s in page.evaluate("shown") if s["itemId"] == b.pk]
    assert shown_b and shown_b[0]["pending"] is True

    # Someone else claims the preloaded item first: the claim's item loads.
    page.wait_for_function(f"() => preloaded.includes({c.pk})")
    other = add_member(
        project, Role.ANNOTATOR, get_user_model().objects.create(username="ann2")
    )
    assert queue_claim_next(project=project, user=other, kind="label").item_id == c.pk
    _draw_box(page)
    page.keyboard.press("Control+Enter")
    page.wait_for_function(
        f"() => window.alwebPage.runner.task && "
        f"window.alwebPage.runner.task.item.id === {d.pk}"
    )
    expect(page.get_by_test_id("save-alert")).to_contain_text("taken by someone else")
    expect(page.get_by_test_id("why-here")).to_contain_text(d.original_name)
    assert not page.errors, page.errors
