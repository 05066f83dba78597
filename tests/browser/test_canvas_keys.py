"""The canvas's keyboard-true and model-assisted parts in Chromium (the harness
page): the label of a new shape, the label picker, accepting pre-annotations,
keyboard drawing and nudging, the key sheet, zoom, per-shape hide / lock /
delete, review edit marks, caption layout and the polygon draft API."""

import pytest

from tests.browser import test_canvas as base
from tests.browser.canvas_helpers import click_image, drag, events, shapes, to_page
from tests.browser.test_canvas import remount

pytestmark = [pytest.mark.browser]
expect = base.sync_api.expect
# The harness page's fixtures (a loopback static server, one Chromium, a page).
static_server, browser, page = base.static_server, base.browser, base.page


def selection(page):
    return page.evaluate("window.canvasApi.getSelection()")


def focused(page):
    return page.evaluate("document.activeElement?.dataset.testid")


def pressed_label(page):
    return page.locator("[data-testid=label-option][aria-pressed=true]").get_attribute(
        "data-label"
    )


def test_a_new_shape_does_not_take_the_next_label_key(page):
    """Press 2, draw a box, press P, press 3: the box keeps the second label and
    3 is the label of the next shape (bug: the box became the third class)."""
    page.keyboard.press("2")
    drag(page, to_page(page, 400, 300), to_page(page, 500, 380))
    page.keyboard.press("p")
    page.keyboard.press("3")
    box = shapes(page)[-1]
    assert box["kind"] == "box" and box["label"] == "person"
    assert selection(page) == -1
    assert page.evaluate("window.canvasApi.getLabel()") == "bicycle"
    # The picker shows the drawing label, or the selected shape's label.
    assert pressed_label(page) == "bicycle"
    expect(page.get_by_test_id("label-picker-title")).to_have_text(
        "Label for new shapes"
    )
    page.keyboard.press("v")
    click_image(page, 450, 340)
    assert selection(page) == 4
    expect(
        page.locator("[data-testid=label-option][aria-pressed=true]")
    ).to_have_attribute("data-label", "person")
    expect(page.get_by_test_id("label-picker-title")).to_have_text(
        "Label of the selected shape"
    )
    page.keyboard.press("Escape")
    assert pressed_label(page) == "bicycle"


def test_enter_accepts_the_selected_pre_annotation_and_moves_to_the_next(page):
    page.get_by_test_id("stage").focus()
    page.keyboard.press("n")
    page.keyboard.press("n")  # the model car 0.83 (index 1)
    assert selection(page) == 1
    page.keyboard.press("Enter")
    got = shapes(page)
    assert got[1]["source"] == "human" and "confidence" not in got[1]
    assert [s["source"] for s in got[2:]] == ["model:12", "model:12"]
    assert selection(page) == 2  # the next pre-annotation
    page.get_by_test_id("accept-selected").click()
    assert shapes(page)[2]["source"] == "human" and selection(page) == 3
    assert focused(page) == "stage"  # focus came back after the button


def test_a_click_inside_a_model_box_takes_it_and_shift_draws_anyway(page):
    page.keyboard.press("b")
    n = len(shapes(page))
    click_image(page, 900, 470)  # inside the model car 0.83
    got = shapes(page)
    assert len(got) == n and got[1]["source"] == "human" and got[1]["id"] == 2
    drag(page, to_page(page, 340, 120), to_page(page, 360, 160))  # another model box
    assert len(shapes(page)) == n and shapes(page)[2]["source"] == "human"
    page.keyboard.down("Shift")
    drag(page, to_page(page, 850, 440), to_page(page, 950, 500))
    page.keyboard.up("Shift")
    assert len(shapes(page)) == n + 1
    assert shapes(page)[-1]["bbox"] == pytest.approx([850, 440, 100, 60], abs=1.5)


def test_a_box_drawn_and_moved_with_the_keyboard_only(page):
    stage = page.get_by_test_id("stage")
    stage.focus()
    page.keyboard.press("b")
    page.keyboard.press("ArrowRight")  # shows the cross at the view's centre
    start = page.evaluate("window.canvasApi.getView()")
    assert start["scale"] > 0
    page.keyboard.press("Enter")  # first corner
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # second corner: the box
    box = shapes(page)[-1]
    scale = page.evaluate("window.canvasApi.getView().scale")
    assert box["kind"] == "box" and box["source"] == "human"
    assert box["bbox"][2] == pytest.approx(60 / scale, abs=0.05)
    assert box["bbox"][3] == pytest.approx(40 / scale, abs=0.05)
    page.keyboard.press("Escape")  # the cross goes away
    page.keyboard.press("Shift+N")  # select the new box (the last shape)
    before = shapes(page)[-1]["bbox"]
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+ArrowUp")
    after = shapes(page)[-1]["bbox"]
    assert after[0] == pytest.approx(before[0] - 1) and after[1] == pytest.approx(
        before[1] - 10
    )
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert shapes(page)[-1]["bbox"] == before


def test_question_mark_opens_the_key_sheet_and_escape_closes_it(page):
    page.get_by_test_id("stage").focus()
    page.keyboard.press("?")
    sheet = page.get_by_test_id("key-help")
    expect(sheet).to_be_visible()
    expect(sheet).to_contain_text("accept all pre-annotations")
    expect(sheet).to_contain_text("N")
    page.keyboard.press("b")  # keys do not leak to the canvas under the sheet
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    assert focused(page) == "stage"
    page.get_by_test_id("key-help-open").click()
    expect(sheet).to_be_visible()
    page.get_by_test_id("key-help-close").click()
    expect(sheet).to_be_hidden()
    assert focused(page) == "stage"


def test_zoom_buttons_keys_and_the_visible_level(page):
    level = page.get_by_test_id("zoom-level")
    fit = page.evaluate("window.canvasApi.getView().scale")
    expect(level).to_have_text(f"{round(fit * 100)}%")
    page.get_by_test_id("zoom-in").click()
    expect(level).to_have_text(f"{round(fit * 125)}%")
    assert focused(page) == "stage"
    page.keyboard.press("-")
    expect(level).to_have_text(f"{round(fit * 100)}%")
    page.keyboard.press("0")
    expect(level).to_have_text("100%")
    page.keyboard.press("f")
    expect(level).to_have_text(f"{round(fit * 100)}%")
    page.keyboard.press("v")
    page.keyboard.press("Escape")
    v0 = page.evaluate("window.canvasApi.getView()")
    page.keyboard.press("ArrowLeft")  # nothing selected: pan
    assert page.evaluate("window.canvasApi.getView()")["ox"] == pytest.approx(
        v0["ox"] + 50
    )


def test_shape_list_hides_locks_and_deletes_each_shape(page):
    rows = page.get_by_test_id("shape-item")
    expect(rows).to_have_count(4)
    rows.nth(0).get_by_test_id("shape-hide").click()
    expect(rows.nth(0)).to_have_attribute("data-hidden", "true")
    page.keyboard.press("v")
    click_image(page, 150, 580)  # where the hidden person box is: nothing there
    assert selection(page) == -1
    rows.nth(0).get_by_test_id("shape-hide").click()
    click_image(page, 150, 580)
    assert selection(page) == 0
    page.keyboard.press("l")  # lock it
    expect(rows.nth(0)).to_have_attribute("data-locked", "true")
    before = shapes(page)
    drag(page, to_page(page, 150, 580), to_page(page, 250, 640))
    page.keyboard.press("Delete")
    page.keyboard.press("3")
    page.keyboard.press("ArrowRight")
    assert shapes(page) == before  # a locked shape never changes
    expect(rows.nth(0).get_by_test_id("shape-delete")).to_be_disabled()
    rows.nth(0).get_by_test_id("shape-lock").click()
    rows.nth(1).get_by_test_id("shape-delete").click()
    assert [s["id"] for s in shapes(page)] == [1, 3, 4]
    assert focused(page) == "stage"
    page.keyboard.press("Control+z")
    assert len(shapes(page)) == 4


def test_long_labels_show_in_full_in_the_list_and_the_picker(page):
    long = "a very long label name that would never fit in one line of the list"
    remount(
        page,
        """l => window.harness.mount({labels: [{name: l}, {name: "car"}],
            shapes: [{kind: "box", label: l, bbox: [10, 10, 50, 50]}]})""",
        long,
    )
    label = page.get_by_test_id("shape-item-label").first
    expect(label).to_have_text(long)
    fits = label.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    assert fits and label.evaluate("e => e.getBoundingClientRect().height") > 20
    option = page.get_by_test_id("label-option").first
    assert option.evaluate("e => e.scrollWidth <= e.clientWidth + 1")


def test_review_marks_edited_added_and_removed_shapes(page):
    remount(page, "{markEdits: true, tool: 'select'}")
    assert page.evaluate("window.canvasApi.getTool()") == "select"
    rows = page.get_by_test_id("shape-item")
    expect(rows.nth(0)).to_have_attribute("data-edited", "no")
    drag(page, to_page(page, 150, 580), to_page(page, 170, 600))
    expect(rows.nth(0)).to_have_attribute("data-edited", "edited")
    expect(rows.nth(0).get_by_test_id("shape-item-edit")).to_have_text(
        "edited in review"
    )
    click_image(page, 360, 140)
    page.keyboard.press("Delete")
    expect(page.get_by_test_id("shape-removed")).to_have_text("1 removed in review")
    page.keyboard.press("b")
    drag(page, to_page(page, 20, 20), to_page(page, 80, 80))
    expect(rows.last).to_have_attribute("data-edited", "added")
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    expect(page.locator("[data-testid=shape-item][data-edited=no]")).to_have_count(4)


def test_pre_annotation_captions_never_overlap(page):
    """Forty overlapping model boxes: every caption drawn is on screen and no two
    overlap (the ones left out show on hover or selection)."""
    got = page.evaluate(
        """() => new Promise((resolve) => {
        const shapes = [];
        for (let i = 0; i < 40; i++) {
          shapes.push({kind: 'box', label: 'car', source: 'model:1',
                       confidence: 0.5 + i / 100,
                       bbox: [100 + 8 * i, 100 + 6 * i, 160, 120]});
        }
        window.harness.mount({shapes, onRender(ms, info) {
          if (info.base && window.imageReady) resolve({n: info.captions.length,
            rects: info.captions, w: innerWidth, h: innerHeight});
        }});
    })"""
    )
    rects = got["rects"]

    def hit(a, b):
        return (
            a[0] < b[0] + b[2]
            and b[0] < a[0] + a[2]
            and a[1] < b[1] + b[3]
            and b[1] < a[1] + a[3]
        )

    assert got["n"] >= 5
    assert not [
        (a, b) for i, a in enumerate(rects) for b in rects[i + 1 :] if hit(a, b)
    ]
    assert all(r[0] >= 0 and r[1] >= 0 for r in rects)


def test_a_polygon_in_progress_can_be_read_and_resumed(page):
    page.keyboard.press("p")
    click_image(page, 100, 100)
    click_image(page, 200, 100)
    drawing = events(page, "drawingChanged")[-1]["detail"]["drawing"]
    assert drawing["kind"] == "polygon" and len(drawing["points"]) == 2
    remount(page)
    page.evaluate(f"window.canvasApi.setDrawing({drawing!r})".replace("'", '"'))
    assert page.evaluate("window.canvasApi.getTool()") == "polygon"
    click_image(page, 150, 200)
    page.keyboard.press("Enter")
    poly = shapes(page)[-1]
    assert poly["kind"] == "polygon" and len(poly["points"]) == 3
