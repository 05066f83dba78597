"""Server-side validation and conversion of annotation geometry (pixels, shapely).

Every shape that reaches the database passes through :func:`validate_shape`,
whether it comes from the browser canvas, the REST API or an importer. The
rules, in the order they are checked:

* the shape is a JSON object; ``kind`` is a string in ``kinds``; ``label`` is a
  string in ``labels``; other keys are ignored and not returned;
* every coordinate is a real JSON number: ``int`` or ``float`` but not
  ``bool``, not a string (``"12"``, ``"12px"``, ``"NaN"``), finite, and with
  ``abs(v) < 1e7``;
* **box** ``{"bbox": [x, y, w, h]}``: ``w > 0`` and ``h > 0``; the box is clipped
  to the image rectangle ``[0, width] x [0, height]``; no overlap with the image
  -> "box is outside the image"; clipped area < 1 px² -> "box has zero area";
* **polygon** ``{"points": [[x, y], ...]}``: a list of ``[x, y]`` pairs;
  consecutive duplicate points (and a closing point equal to the first) are
  dropped; at least 3 distinct points and at most ``max_points``; all points
  on one line or area < 1 px² -> "polygon has zero area"; shapely ``is_valid`` false ->
  "polygon is self-intersecting"; the polygon is clipped to the image and must
  leave exactly one polygon of area >= 1 px², else "polygon is outside the
  image"; the stored points are the clipped exterior ring without the closing
  repeat.

The normalised result has coordinates rounded to 2 decimals and, computed on
the server, ``"bbox"`` (for polygons too) and ``"area"`` in px². Rounding never
moves a point outside the image because the image size is an integer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon, box
from shapely.geometry.polygon import orient

from ml.types import BBox, Point

MAX_ABS_COORDINATE = 1e7
DECIMALS = 2


class GeometryError(ValueError):
    """A shape that cannot be stored; ``reason`` is a sentence for a human."""

    def __init__(self, reason: str, *, index: int | None = None) -> None:
        self.reason = reason
        self.index = index
        super().__init__(reason if index is None else f"annotations[{index}]: {reason}")


def validate_shape(
    data: Any,
    *,
    width: int,
    height: int,
    labels: Sequence[str],
    kinds: Sequence[str],
    max_points: int = 1000,
) -> dict[str, Any]:
    """Check one API shape against the rules above and return it normalised.

    Raises GeometryError for any problem with ``data`` (never another
    exception, whatever ``data`` holds), and ValueError when the image size
    itself is not a pair of positive integers.
    """
    check_image_size(width, height)
    if not isinstance(data, dict):
        raise GeometryError("shape must be an object")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        raise GeometryError(f"kind must be one of {', '.join(map(repr, kinds))}")
    label = data.get("label")
    if not isinstance(label, str) or label not in labels:
        raise GeometryError(f"label {_short(label)} is not a label of this project")
    if kind == "box":
        bbox, area = _validate_box(data.get("bbox"), width, height)
        return {"kind": "box", "label": label, "bbox": list(bbox), "area": area}
    if kind == "polygon":
        points, area = _validate_polygon(data.get("points"), width, height, max_points)
        return {
            "kind": "polygon",
            "label": label,
            "points": [list(p) for p in points],
            "bbox": list(polygon_bbox(points)),
            "area": area,
        }
    raise GeometryError(f"kind {kind!r} is not supported")


def validate_shapes(
    shapes: Any,
    *,
    width: int,
    height: int,
    labels: Sequence[str],
    kinds: Sequence[str],
    max_points: int = 1000,
    max_shapes: int = 1000,
) -> list[dict[str, Any]]:
    """Validate a list of shapes; the GeometryError message names the index.

    Raises GeometryError("annotations[3]: polygon is self-intersecting") for
    the first bad shape, or when ``shapes`` is not a list or is too long.
    """
    if not isinstance(shapes, list):
        raise GeometryError("annotations must be a list")
    if len(shapes) > max_shapes:
        raise GeometryError(f"too many annotations ({len(shapes)} > {max_shapes})")
    result = []
    for i, shape in enumerate(shapes):
        try:
            result.append(
                validate_shape(
                    shape,
                    width=width,
                    height=height,
                    labels=labels,
                    kinds=kinds,
                    max_points=max_points,
                )
            )
        except GeometryError as exc:
            raise GeometryError(exc.reason, index=i) from None
    return result


def check_image_size(width: Any, height: Any) -> None:
    """ValueError unless `width` and `height` are positive integers."""
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"image {name} must be a positive integer, got {v!r}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value: Any, what: str, *index: int) -> float:
    """`value` as a float; `what` and `index` name it in the error
    ("points", 3, 0 -> "points[3][0]"), formatted only when there is one."""
    # The common case first, without building the name (a file import checks
    # millions of coordinates): a plain int or float in range. NaN fails the
    # comparison; bool is not `int` by type.
    kind = type(value)
    if (kind is float or kind is int) and -MAX_ABS_COORDINATE < value < (
        MAX_ABS_COORDINATE
    ):
        return float(value)
    what += "".join(f"[{i}]" for i in index)
    # bool is an int subclass and a JSON true must never become 1 px.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GeometryError(f"{what} must be a number, got {_short(value)}")
    # Compare before float(): float() of a huge int raises OverflowError.
    if isinstance(value, float) and not math.isfinite(value):
        raise GeometryError(f"{what} must be finite, got {value!r}")
    if not -MAX_ABS_COORDINATE < value < MAX_ABS_COORDINATE:
        raise GeometryError(f"{what} is out of range")
    return float(value)


def _validate_box(raw: Any, width: int, height: int) -> tuple[BBox, float]:
    if not isinstance(raw, list | tuple) or len(raw) != 4:
        raise GeometryError("bbox must be a list [x, y, w, h]")
    x, y, w, h = (_number(v, "bbox", i) for i, v in enumerate(raw))
    if w <= 0 or h <= 0:
        raise GeometryError("box width and height must be positive")
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise GeometryError("box is outside the image")
    x1, y1 = round(max(x, 0.0), DECIMALS), round(max(y, 0.0), DECIMALS)
    x2, y2 = round(min(x + w, width), DECIMALS), round(min(y + h, height), DECIMALS)
    cw, ch = round(x2 - x1, DECIMALS), round(y2 - y1, DECIMALS)
    area = cw * ch
    if cw <= 0 or ch <= 0 or area < 1.0:
        raise GeometryError("box has zero area (under 1 px² inside the image)")
    return (x1, y1, cw, ch), round(area, DECIMALS)


def parse_points(raw: Any, max_points: int) -> list[Point]:
    """A polygon's points checked as numbers, repeats dropped (validate_shape's
    first step); GeometryError naming the first bad one."""
    if not isinstance(raw, list | tuple):
        raise GeometryError("points must be a list of [x, y] pairs")
    # Cheap bound before the per-point work; duplicates may legitimately pad it.
    if len(raw) > 2 * max_points + 1:
        raise GeometryError(f"polygon has more than {max_points} points")
    points: list[Point] = []
    for i, pair in enumerate(raw):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise GeometryError(f"points[{i}] must be a pair [x, y]")
        p = (_number(pair[0], "points", i, 0), _number(pair[1], "points", i, 1))
        if not points or p != points[-1]:
            points.append(p)
    while len(points) > 1 and points[-1] == points[0]:
        points.pop()
    if len(points) < 3:
        raise GeometryError("polygon needs at least 3 distinct points")
    if len(points) > max_points:
        raise GeometryError(f"polygon has more than {max_points} points")
    return points


def _validate_polygon(
    raw: Any, width: int, height: int, max_points: int
) -> tuple[tuple[Point, ...], float]:
    points = parse_points(raw, max_points)
    # Checked before is_valid: a collinear ring is also invalid, but "zero
    # area" is the more useful thing to tell the person who drew it.
    if MultiPoint(points).convex_hull.area == 0.0:
        raise GeometryError("polygon has zero area")
    poly = Polygon(points)
    if not poly.is_valid:
        raise GeometryError("polygon is self-intersecting")
    if poly.area < 1.0:
        raise GeometryError("polygon has zero area (under 1 px²)")
    image = box(0, 0, width, height)
    clipped = poly if image.covers(poly) else _single_polygon(poly.intersection(image))
    # Keep the drawing direction the user chose; overlay operations may flip it.
    clipped = orient(clipped, 1.0 if poly.exterior.is_ccw else -1.0)
    result = _rounded_ring(clipped)
    if result is None:
        # Rounding to 0.01 made the ring invalid (near-touching vertices):
        # snap with shapely, which keeps the geometry valid on that grid.
        # Tiny (denormal) coordinates raise harmless FP flags inside GEOS.
        with np.errstate(all="ignore"):
            grid = shapely.set_precision(clipped, 10**-DECIMALS)
        # Snapping may split off slivers under 1 px² where the ring touched
        # itself on the grid: they are rounding dust, not a second piece.
        snapped = _single_polygon(grid, dust=1.0)
        result = _rounded_ring(snapped)
        if result is None:
            raise GeometryError("polygon is outside the image")
    return result


def _single_polygon(geom: Any, dust: float = 0.0) -> Polygon:
    """The one polygon of `geom`, ignoring empty parts and parts of at most
    `dust` px²; GeometryError unless exactly one of at least 1 px² is left."""
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon)]
    parts = [p for p in parts if not p.is_empty and p.area > dust]
    if len(parts) != 1 or parts[0].area < 1.0:
        raise GeometryError("polygon is outside the image")
    return parts[0]


def _rounded_ring(poly: Polygon) -> tuple[tuple[Point, ...], float] | None:
    """The exterior ring rounded to DECIMALS, or None when rounding broke it."""
    pts: list[Point] = []
    for x, y in list(poly.exterior.coords)[:-1]:
        p = (round(x, DECIMALS) + 0.0, round(y, DECIMALS) + 0.0)  # +0.0 drops -0.0
        if not pts or p != pts[-1]:
            pts.append(p)
    while len(pts) > 1 and pts[-1] == pts[0]:
        pts.pop()
    if len(pts) < 3 or not all(math.isfinite(v) for p in pts for v in p):
        return None
    rounded = Polygon(pts)
    if not rounded.is_valid or rounded.area < 1.0:
        return None
    return tuple(pts), round(rounded.area, DECIMALS)


def polygon_bbox(points: Sequence[Sequence[float]]) -> BBox:
    """The (x, y, w, h) box enclosing ``points``; ValueError when empty."""
    if not points:
        raise ValueError("polygon_bbox needs at least one point")
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    x, y = min(xs), min(ys)
    return (x, y, max(xs) - x, max(ys) - y)


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes, in [0, 1].

    Boxes with no area give 0.0 rather than dividing by zero.
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = min(ax + aw, bx + bw) - max(ax, bx)
    ih = min(ay + ah, by + bh) - max(ay, by)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return 0.0 if union <= 0 else min(1.0, inter / union)


def _check_size(width: float, height: float) -> None:
    if not (width > 0 and height > 0):
        raise ValueError("image width and height must be positive")


def _unit(v: float) -> float:
    return min(1.0, max(0.0, v))


def to_yolo_box(bbox: Sequence[float], width: float, height: float) -> BBox:
    """(x, y, w, h) pixels -> YOLO (cx, cy, w, h) normalised to [0, 1].

    The box is clipped to the image first so the label file is always valid.
    """
    _check_size(width, height)
    x, y, w, h = bbox
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(float(width), _canon(x + w)), min(float(height), _canon(y + h))
    x2, y2 = max(x1, x2), max(y1, y2)
    return (
        _unit(_canon((x1 + x2) / 2) / width),
        _unit(_canon((y1 + y2) / 2) / height),
        _unit(_canon(x2 - x1) / width),
        _unit(_canon(y2 - y1) / height),
    )


def from_yolo_box(yolo: Sequence[float], width: float, height: float) -> BBox:
    """YOLO (cx, cy, w, h) normalised -> (x, y, w, h) pixels; undoes to_yolo_box."""
    _check_size(width, height)
    cx, cy, w, h = yolo
    return ((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height)


def to_yolo_polygon(
    points: Sequence[Sequence[float]], width: float, height: float
) -> tuple[float, ...]:
    """Polygon pixels -> flat normalised ``(x1, y1, x2, y2, ...)`` as YOLO writes it.

    Coordinates are clamped to [0, 1].
    """
    _check_size(width, height)
    flat: list[float] = []
    for x, y in points:
        flat.extend((_unit(x / width), _unit(y / height)))
    return tuple(flat)


def box_to_points(bbox: Sequence[float]) -> tuple[Point, ...]:
    """The four corners of an (x, y, w, h) box, clockwise from top-left."""
    x, y, w, h = bbox
    x2, y2 = _canon(x + w), _canon(y + h)
    return ((x, y), (x2, y), (x2, y2), (x, y2))


def _canon(v: float) -> float:
    """`v` without the float noise of a sum (121.27 + 34.58 is
    155.85000000000002): rounded at 1e-6 px, far below what any format keeps,
    so the same corner always gives the same label file digits."""
    return round(v, 6) + 0.0
