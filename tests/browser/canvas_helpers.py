"""Helpers of the canvas browser tests (tests/browser/test_canvas*.py): read the
canvas's shapes and events, map image pixels to the page, drag and click."""

from playwright import sync_api


def shapes(page):
    return page.evaluate("window.canvasApi.getShapes()")


def events(page, kind):
    return page.evaluate(f"window.events.filter(e => e.type === {kind!r})")


def to_page(page, x, y):
    """Image pixel -> page coordinates through the current view."""
    box = page.get_by_test_id("canvas").bounding_box()
    v = page.evaluate("window.canvasApi.getView()")
    return box["x"] + v["ox"] + x * v["scale"], box["y"] + v["oy"] + y * v["scale"]


def drag(page, start, end, steps=6):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=steps)
    page.mouse.up()


def click_image(page, x, y):
    page.mouse.click(*to_page(page, x, y))


def pixel_tolerance(page):
    return 1.5 / page.evaluate("window.canvasApi.getView().scale") + 0.01


def assert_close(actual, expected, tol):
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected, strict=True):
        assert abs(a - e) <= tol, (actual, expected)


def expect_items(page, n):
    """The shape list updates on the next animation frame: wait for it."""
    sync_api.expect(page.get_by_test_id("shape-item")).to_have_count(n)
