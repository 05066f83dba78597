"""A scripted annotator labels a demo-like project in headless Chromium with the
keyboard and the mouse, as a person would, against a live server on loopback.

The project: N synthetic images (annotate.demo_data, 320x240, 1-3 shapes each:
rectangles are boxes, circles and triangles polygons), like the demo. With
--predictions (the default run does both), model pre-annotations are seeded
through annotate's COCO predictions import: each true shape is predicted with
probability 0.85, its coordinates jittered (Gaussian, sigma 2 px for boxes, 1.5 px
per polygon point), its label wrong with probability 0.1, confidence 0.5-0.98;
an image gets a low-confidence false positive (0.05-0.4) with probability 0.3 and
a confident one (0.5-0.7) with probability 0.05. Seeded: the same every run.

The annotator knows the truth. It sets the confidence threshold once (0.45),
then per item: fixes each wrong label (click the shape, press its number), deletes
each confident false positive (click, Delete), draws each missed shape (number key
for its label if needed, B or P if needed, a drag for a box; for a polygon a click
per point, 8 for a circle, 3 for a triangle, then Enter), accepts the rest (A) and
submits (Ctrl+Enter). Without pre-annotations it draws everything.

Prints: seconds of machine time per item, mouse presses (a drag is one) and key
presses per accepted shape and per accepted box, submit -> next image on screen
and submit -> next claim confirmed (p50 / p95, measured in the page from the
Ctrl+Enter keydown), and how many submitted items match the truth.

Usage: .venv/bin/python bench/annotator.py [--items 200] [--mode both|predictions|
manual] [--no-preload]
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from _common import add_items, setup_django  # noqa: E402

from tests.browser.chromium import launch_chromium  # noqa: E402

THRESHOLD = 0.45
TIMING = """
window.benchTimes = [];
let t0 = null;
document.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && e.ctrlKey) t0 = performance.now();
}, true);
document.addEventListener('itemShown', (e) => {
  if (t0 !== null) window.benchTimes.push({kind: 'shown', ms: e.detail.at - t0});
});
document.addEventListener('taskReady', (e) => {
  if (t0 !== null) window.benchTimes.push({kind: 'ready', ms: e.detail.readyAt - t0});
  t0 = null;
  window.benchReadyAt = e.detail.readyAt;
});
document.addEventListener('itemPreloaded', () => {
  const ms = performance.now() - window.benchReadyAt;
  window.benchTimes.push({kind: 'preload', ms});
});
"""
# A person looks at an item for seconds; the bot acts in about 0.2 s. Before it
# submits it waits for the look-ahead to finish (timed apart, not counted as
# machine time per item), so that the submit -> next image figures are what a
# person sees. --no-wait submits at once.
WAIT_PRELOAD = """async () => { const t = performance.now();
  await window.alwebPage.runner.preloader.settled; return performance.now() - t; }"""


def bbox_of(shape):
    if shape["kind"] == "box":
        return shape["bbox"]
    xs = [p[0] for p in shape["points"]]
    ys = [p[1] for p in shape["points"]]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def iou(a, b):
    ax, ay, aw, ah = bbox_of(a)
    bx, by, bw, bh = bbox_of(b)
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def noisy_predictions(truth, labels, rng, w=320, h=240):
    out = []
    clamp = lambda v, hi: max(0.0, min(hi, v))  # noqa: E731
    for shape in truth:
        if rng.random() > 0.85:
            continue
        label = shape["label"]
        if rng.random() < 0.1:
            label = rng.choice([lb for lb in labels if lb != label])
        pred = {"kind": shape["kind"], "label": label,
                "confidence": round(rng.uniform(0.5, 0.98), 3)}  # fmt: skip
        if shape["kind"] == "box":
            x, y, bw, bh = (v + rng.gauss(0, 2) for v in shape["bbox"])
            x, y = clamp(x, w - 4), clamp(y, h - 4)
            pred["bbox"] = [x, y, min(max(bw, 4), w - x), min(max(bh, 4), h - y)]
        else:
            pred["points"] = [
                [clamp(px + rng.gauss(0, 1.5), w), clamp(py + rng.gauss(0, 1.5), h)]
                for px, py in shape["points"]
            ]
        out.append(pred)
    for chance, lo, hi in [(0.3, 0.05, 0.4), (0.05, 0.5, 0.7)]:
        if rng.random() < chance:
            x, y = rng.uniform(0, w - 60), rng.uniform(0, h - 50)
            conf = round(rng.uniform(lo, hi), 3)
            box = {"kind": "box", "label": rng.choice(labels), "bbox": [x, y, 50, 40]}
            out.append({**box, "confidence": conf})
    return out


class Person:
    """Drives the page and counts what a person would press."""

    def __init__(self, page, labels):
        self.page, self.labels = page, labels
        self.keys = self.presses = 0
        self.tool, self.label = "box", labels[0]
        self.waited = 0.0
        self.target = "shared"  # what the next action is for: box, polygon, shared
        self.by = {"box": 0, "polygon": 0, "shared": 0}
        self.box_actions = 0.0

    def key(self, k):
        self.page.keyboard.press(k)
        self.keys += 1
        self.by[self.target] += 1

    def to_page(self, x, y):
        return self.page.evaluate(
            """([x, y]) => { const r = document.querySelector('[data-testid=canvas]')
              .getBoundingClientRect(); const v = window.alwebPage.canvas().getView();
              return [r.x + v.ox + x * v.scale, r.y + v.oy + y * v.scale]; }""",
            [x, y],
        )

    def click(self, x, y):
        self.page.mouse.click(*self.to_page(x, y))
        self.presses += 1
        self.by[self.target] += 1

    def set_tool(self, tool):
        if self.tool != tool:
            self.key({"box": "b", "polygon": "p", "select": "v"}[tool])
            self.tool = tool

    def set_label(self, label):
        if self.label != label:
            self.key(str(self.labels.index(label) + 1))
            self.label = label

    def canvas(self, expr):
        return self.page.evaluate(f"window.alwebPage.canvas().{expr}")

    def select(self, index, shape):
        """Click inside the shape; if another one is on top there, N to it."""
        self.target = shape["kind"]
        self.set_tool("select")
        bx, by, bw, bh = bbox_of(shape)
        self.click(bx + bw / 2, by + bh / 2)
        for _ in range(12):
            if self.canvas("getSelection()") == index:
                return
            self.key("n")
        raise RuntimeError("could not select the shape")

    def draw(self, shape):
        self.target = shape["kind"]
        self.set_label(shape["label"])
        n = len(self.canvas("getShapes()"))
        if shape["kind"] == "box":
            self.set_tool("box")
            x, y, w, h = shape["bbox"]
            self.page.mouse.move(*self.to_page(x, y))
            self.page.mouse.down()
            self.page.mouse.move(*self.to_page(x + w, y + h), steps=3)
            self.page.mouse.up()
            self.presses += 1
            self.by[self.target] += 1
        else:
            self.set_tool("polygon")
            pts = shape["points"]
            for px, py in pts[::2] if len(pts) > 8 else pts:
                self.click(px, py)
            self.key("Enter")
        if len(self.canvas("getShapes()")) != n + 1:
            raise RuntimeError(f"drawing failed: {shape}")


def label_items(page, person, truth_of, predictions, wait):
    done = []
    previous = None
    while True:
        page.wait_for_function(
            "p => window.alwebTask && window.alwebTask.id !== p", arg=previous
        )
        task = page.evaluate("window.alwebTask.id")
        if task is None:
            return done
        previous = task
        before = dict(person.by)
        person.target = "shared"
        item = page.evaluate("window.alwebPage.runner.task.item")
        truth = truth_of[item["name"]]
        shown = person.canvas("getShapes()")
        visible = [
            (i, s) for i, s in enumerate(shown)
            if s.get("confidence") is None or s["confidence"] >= THRESHOLD
        ]  # fmt: skip
        matched = set()
        for i, s in visible:
            best = max(
                (t for t in range(len(truth)) if t not in matched),
                key=lambda t: iou(s, truth[t]) if s["kind"] == truth[t]["kind"] else 0,
                default=None,
            )
            good = (
                best is not None
                and s["kind"] == truth[best]["kind"]
                and (iou(s, truth[best]) >= 0.5)
            )
            if not good:
                person.select(i, s)
                person.key("Delete")
                shown = person.canvas("getShapes()")
                visible = [(k - (k > i), x) for k, x in visible if k != i]
                continue
            matched.add(best)
            if s["label"] != truth[best]["label"]:
                person.select(i, s)
                person.key(str(person.labels.index(truth[best]["label"]) + 1))
        person.target = "shared"
        if person.canvas("getSelection()") >= 0:
            person.key("Escape")
        for t, shape in enumerate(truth):
            if t not in matched:
                person.draw(shape)
        person.target = "shared"
        if predictions and any(
            str(s.get("source", "")).startswith("model:")
            for s in person.canvas("getShapes()")
        ):
            person.key("a")
        done.append((item["id"], len(truth), sum(s["kind"] == "box" for s in truth)))
        if wait:
            person.waited += page.evaluate(WAIT_PRELOAD) / 1000
        person.key("Control+Enter")
        # Actions for the item's boxes, with the boxes' share of the shared ones
        # (threshold, Escape, accept all, submit).
        boxes = sum(s["kind"] == "box" for s in truth)
        spent = {k: person.by[k] - before[k] for k in person.by}
        person.box_actions += spent["box"] + spent["shared"] * boxes / len(truth)


def run(args, mode):
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from playwright.sync_api import sync_playwright

    from alweb.roles import Role
    from annotate.demo_data import DEMO_LABELS, synthetic_image
    from annotate.models import Annotation
    from tests.browser.seeding import seed_predictions
    from tests.factories import UserFactory, add_member, make_project

    owner = UserFactory(username=f"owner-{mode}")
    project = make_project(owner, name=f"bench {mode}")
    add_member(project, Role.ANNOTATOR, UserFactory(username=f"ann-{mode}"))
    seed0 = 10_000 if mode == "manual" else 0
    items = add_items(project, args.items, start_seed=seed0)
    truth_of = {
        it.original_name: synthetic_image(seed0 + i).shapes
        for i, it in enumerate(items)
    }
    predictions = mode == "predictions"
    if predictions:
        rng = random.Random(7)
        seed_predictions(
            project,
            owner,
            {
                it: noisy_predictions(truth_of[it.original_name], DEMO_LABELS, rng)
                for it in items
            },
        )
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.add_init_script(
            TIMING + ("window.alwebPreload = false;" if args.no_preload else "")
        )
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", f"ann-{mode}")
        page.fill("input[name=password]", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.wait_for_url("**/projects/", timeout=15000)
        page.goto(f"{base}/projects/{project.pk}/label/")
        page.wait_for_function("() => window.alwebTask && window.alwebTask.id")
        person = Person(page, list(DEMO_LABELS))
        if predictions:
            page.get_by_test_id("confidence-slider").fill(str(THRESHOLD))
            person.presses += 1
            person.page.get_by_test_id("stage").focus()
        t0 = time.perf_counter()
        done = label_items(page, person, truth_of, predictions, not args.no_wait)
        elapsed = time.perf_counter() - t0 - person.waited
        times = page.evaluate("window.benchTimes")
        browser.close()
    server.terminate()
    if errors:
        sys.exit(f"page errors: {errors}")
    ok = 0
    for item_id, n, _ in done:
        saved = list(Annotation.objects.filter(item_id=item_id))
        item = next(it for it in items if it.pk == item_id)
        truth = truth_of[item.original_name]
        as_shapes = [{"kind": a.kind, "label": a.label, **a.geometry} for a in saved]
        good = len(saved) == n and all(
            any(s["label"] == t["label"] and iou(s, t) >= 0.5 for s in as_shapes)
            for t in truth
        )
        ok += good
        if not good and os.environ.get("BENCH_DEBUG"):
            print("MISMATCH", item.original_name, truth, as_shapes)
    shapes = sum(n for _, n, _ in done)
    boxes = sum(b for _, _, b in done)
    return {
        "mode": mode, "items": len(done), "seconds": elapsed, "shapes": shapes,
        "boxes": boxes, "keys": person.keys, "presses": person.presses, "ok": ok,
        "shown": [t["ms"] for t in times if t["kind"] == "shown"],
        "ready": [t["ms"] for t in times if t["kind"] == "ready"],
        "preload": [t["ms"] for t in times if t["kind"] == "preload"],
        "waited": person.waited,
        "box_actions": person.box_actions,
    }  # fmt: skip


def pct(xs, q):
    xs = sorted(xs)
    return xs[max(0, min(len(xs) - 1, round(q * len(xs)) - 1))] if xs else float("nan")


def report(r):
    per = r["shapes"] or 1
    print(
        f"[{r['mode']}] {r['items']} items, {r['shapes']} shapes ({r['boxes']} boxes): "
        f"{r['seconds'] / r['items']:.2f} s of machine time per item; "
        f"{r['presses'] / per:.2f} mouse presses + {r['keys'] / per:.2f} keys per "
        f"accepted shape ({(r['presses'] + r['keys']) / per:.2f} actions); "
        f"{r['ok']}/{r['items']} items match the truth"
    )
    print(
        f"    per accepted box: {r['box_actions'] / max(1, r['boxes']):.2f} actions "
        "(presses + keys on boxes, with their share of threshold, accept all, submit)"
    )
    if r["waited"]:
        print(f"    waited for the look-ahead before submitting: {r['waited']:.1f} s")
    names = {
        "shown": "submit -> next image on screen",
        "ready": "submit -> next claim confirmed",
        "preload": "item ready -> next item preloaded",
    }
    for name, what in names.items():
        xs = r[name]
        if not xs:
            continue
        print(
            f"    {what}: p50 {statistics.median(xs):.1f} ms, "
            f"p95 {pct(xs, 0.95):.1f} ms, max {max(xs):.1f} ms (n={len(xs)})"
        )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--mode", choices=["both", "predictions", "manual"], default="both")
    ap.add_argument("--no-preload", action="store_true")
    ap.add_argument(
        "--no-wait",
        action="store_true",
        help="submit without waiting for the look-ahead (a bot faster than any person)",
    )
    args = ap.parse_args()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    setup_django("annotator")
    modes = ["predictions", "manual"] if args.mode == "both" else [args.mode]
    print(
        f"scripted annotator, preload {'off' if args.no_preload else 'on'}, "
        f"{'no wait' if args.no_wait else 'waits for the look-ahead before submit'}"
    )
    for mode in modes:
        report(run(args, mode))


if __name__ == "__main__":
    main()
