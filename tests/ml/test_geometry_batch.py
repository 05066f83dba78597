"""ml.geometry_batch gives exactly what ml.geometry.validate_shape gives, shape
by shape: the normalised shape, or a GeometryError with the same reason."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ml.geometry import GeometryError, validate_shape
from ml.geometry_batch import validate_shapes_batch

LABELS = ["a", "b"]
KINDS = ["box", "polygon"]


def one_by_one(shapes, sizes, kinds=KINDS):
    out = []
    for shape, (w, h) in zip(shapes, sizes, strict=True):
        try:
            out.append(
                validate_shape(shape, width=w, height=h, labels=LABELS, kinds=kinds)
            )
        except GeometryError as exc:
            out.append(("error", exc.reason))
    return out


def batched(shapes, sizes, kinds=KINDS):
    return [
        ("error", r.reason) if isinstance(r, GeometryError) else r
        for r in validate_shapes_batch(shapes, sizes, labels=LABELS, kinds=kinds)
    ]


def random_shape(rng: random.Random, w: int, h: int):
    """Polygons of every kind the importer meets: inside, partly or wholly
    outside, self-intersecting, collinear, tiny, near-touching vertices that
    rounding breaks, repeated points, clockwise and counter-clockwise; boxes and
    junk between them."""
    roll = rng.random()
    if roll < 0.08:
        return {"kind": "box", "label": "a", "bbox": [rng.uniform(-20, w)] * 4}
    if roll < 0.12:
        return rng.choice(
            [
                "x",
                {"kind": "polygon", "label": "zz", "points": [[0, 0], [5, 0], [0, 5]]},
                {"kind": "polygon", "label": "a", "points": [[0, 0], [5, "1"]]},
                {"kind": "circle", "label": "a"},
                {"kind": "polygon", "label": "a", "points": [[1, 1]] * 5},
            ]
        )
    n = rng.choice([3, 3, 3, 4, 5, 8, 12])
    scale = rng.choice([0.4, 2, 30, 200])
    cx, cy = rng.uniform(-scale, w + scale), rng.uniform(-scale, h + scale)
    points = []
    for _ in range(n):
        x = cx + rng.uniform(-scale, scale)
        y = cy + rng.uniform(-scale, scale)
        digits = rng.choice([0, 1, 2, 3, 6, None])
        if digits is not None:
            x, y = round(x, digits), round(y, digits)
        points.append([x, y])
    if rng.random() < 0.1:  # a near-touching vertex: rounding may break the ring
        a = points[0]
        points.insert(2, [a[0] + rng.uniform(-0.004, 0.004), a[1] + 0.003])
    if rng.random() < 0.1:
        points.append(list(points[0]))
    if rng.random() < 0.1:
        points.insert(1, list(points[1]))
    if rng.random() < 0.05:
        points = [[p[0], p[0]] for p in points]  # collinear
    if rng.random() < 0.3:
        points.reverse()
    return {"kind": "polygon", "label": rng.choice(LABELS), "points": points}


def test_batch_equals_one_by_one_on_ten_thousand_seeded_shapes():
    rng = random.Random(13)
    sizes = [rng.choice([(64, 48), (640, 480), (7, 5)]) for _ in range(10_000)]
    shapes = [random_shape(rng, w, h) for w, h in sizes]
    expected = one_by_one(shapes, sizes)
    assert batched(shapes, sizes) == expected
    # The seeded mix covers the fast path and every fallback.
    kinds = {r[1] if isinstance(r, tuple) else r["kind"] for r in expected}
    assert {
        "polygon",
        "box",
        "polygon is self-intersecting",
        "polygon is outside the image",
        "polygon has zero area",
    } <= kinds


def test_box_only_project_refuses_polygons_as_validate_shape_does():
    shapes = [{"kind": "polygon", "label": "a", "points": [[0, 0], [9, 0], [0, 9]]}]
    assert batched(shapes, [(20, 20)], kinds=["box"]) == one_by_one(
        shapes, [(20, 20)], kinds=["box"]
    )


coordinate = st.floats(min_value=-30, max_value=90, allow_nan=False) | st.integers(
    min_value=-30, max_value=90
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(coordinate, coordinate), min_size=0, max_size=7),
        min_size=1,
        max_size=8,
    )
)
def test_batch_equals_one_by_one_on_any_points(rings):
    shapes = [
        {"kind": "polygon", "label": "a", "points": [list(p) for p in ring]}
        for ring in rings
    ]
    sizes = [(64, 48)] * len(shapes)
    assert batched(shapes, sizes) == one_by_one(shapes, sizes)
