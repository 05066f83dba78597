"""The canvas as pixels in Chromium (the harness page): a screenshot shows the
image, the model's shapes and the box just drawn, each where it belongs."""

import pytest

from tests.browser import test_canvas as base
from tests.browser.canvas_helpers import (
    assert_close,
    click_image,
    drag,
    pixel_tolerance,
    shapes,
    to_page,
)
from tests.browser.test_canvas import ARTIFACTS

pytestmark = [pytest.mark.browser]
# The harness page's fixtures (a loopback static server, one Chromium, a page).
static_server, browser, page = base.static_server, base.browser, base.page


def _pixel(shot, page, x, y):
    """The screenshot's RGB at image pixel (x, y) (device pixel ratio 1)."""
    px, py = to_page(page, x, y)
    return shot.getpixel((round(px), round(py)))[:3]


def _near(rgb, want, tol):
    return all(abs(a - b) <= tol for a, b in zip(rgb, want, strict=True))


def _background(x, y):
    """The harness image's gradient (#7a9cc6 at 0,0 to #c6d9a4 at W,H) at x, y."""
    w, h = 1200, 800
    t = (x * w + y * h) / (w * w + h * h)
    a, b = (0x7A, 0x9C, 0xC6), (0xC6, 0xD9, 0xA4)
    return tuple(round(p + t * (q - p)) for p, q in zip(a, b, strict=True))


PAINTED = """([x, y]) => {
  const bg = document.querySelector("canvas[data-layer=bg]");
  const v = window.canvasApi.getView(), d = window.devicePixelRatio || 1;
  const px = bg.getContext("2d").getImageData(
    Math.round((v.ox + x * v.scale) * d), Math.round((v.oy + y * v.scale) * d), 1, 1
  ).data;
  return bg.style.transform === "" && px[3] === 255;
}"""
LAYOUT = """() => {
  const r = document.querySelector("[data-testid=canvas]").getBoundingClientRect();
  return JSON.stringify([r.x, r.y, r.width, r.height, window.canvasApi.getView()]);
}"""


def _painted_screenshot(page, path, at) -> None:
    """A screenshot once the image layer has painted image pixel `at` (not
    moved by a pending zoom transform), taken while the layout and the view
    stay the same: the pixels are then read through the view they were drawn
    at. Under load the first paint can come a few frames late."""
    for _ in range(5):
        page.wait_for_function(PAINTED, arg=list(at), timeout=10000)
        before = page.evaluate(LAYOUT)
        page.screenshot(path=str(path))
        if page.evaluate(LAYOUT) == before:
            return
    raise AssertionError("the canvas layout or view kept changing")


def test_screenshot_shows_the_image_and_the_box_drawn_where_it_was_drawn(page):
    import io

    from PIL import Image

    assert page.evaluate("window.devicePixelRatio") == 1
    page.keyboard.press("b")
    drag(page, to_page(page, 430, 590), to_page(page, 770, 770))
    assert_close(shapes(page)[-1]["bbox"], [430, 590, 340, 180], pixel_tolerance(page))
    page.keyboard.press("v")
    click_image(page, 600, 220)  # select the model polygon; the new box is drawn
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "canvas.png"
    _painted_screenshot(page, path, (750, 450))
    shot = Image.open(io.BytesIO(path.read_bytes())).convert("RGB")

    # The image itself: its gradient and the red rectangle (#b33) drawn at
    # 820..1020 x 420..530, under an unfilled model box.
    assert _near(_pixel(shot, page, 750, 450), _background(750, 450), 8)
    assert _near(_pixel(shot, page, 920, 475), (0xBB, 0x33, 0x33), 8)
    # The human box in the "car" colour (#e6194b): its left edge is stroked...
    car = (0xE6, 0x19, 0x4B)
    edge = [_pixel(shot, page, 430 + dx, 650) for dx in (-2, -1, 0, 1, 2)]
    assert any(_near(rgb, car, 40) for rgb in edge), edge
    # ...its inside tinted 10 % with it, and just outside it the bare image.
    tinted = tuple(
        round(0.9 * b + 0.1 * c)
        for b, c in zip(_background(650, 650), car, strict=True)
    )
    assert _near(_pixel(shot, page, 650, 650), tinted, 8)
    assert _near(_pixel(shot, page, 650, 560), _background(650, 560), 8)
    assert not _near(_pixel(shot, page, 650, 650), _background(650, 650), 3)
