"""ml.geometry.validate_shape for many shapes at once, with the same results.

A file import validates hundreds of thousands of polygons; one at a time,
shapely's per-object calls cost about 0.1 ms each. Here the polygons of a
batch go through the same GEOS operations as arrays (convex hull, validity,
area, covered by the image, orientation, the rounded ring's validity and
area); the rounding itself stays Python's `round`, as in validate_shape. Only
the common case takes this path: a polygon inside its image whose rounded ring
stays valid. Every other shape — boxes, polygons that need clipping or
snapping, anything that fails a check — goes through validate_shape itself,
so each result and each error is exactly what validate_shape gives
(tests/ml/test_geometry_batch.py compares them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from ml.geometry import (
    DECIMALS,
    GeometryError,
    check_image_size,
    parse_points,
    polygon_bbox,
    validate_shape,
)


def validate_shapes_batch(
    shapes: Sequence[Any],
    sizes: Sequence[tuple[int, int]],
    *,
    labels: Sequence[str],
    kinds: Sequence[str],
    max_points: int = 1000,
) -> list[dict[str, Any] | GeometryError]:
    """validate_shape(shapes[i], width=sizes[i][0], height=sizes[i][1], ...) for
    each i: the normalised shape, or the GeometryError it raises (returned, not
    raised). ValueError for an image size that is not two positive integers."""
    results: list[dict[str, Any] | GeometryError | None] = [None] * len(shapes)
    fast: list[tuple[int, list[tuple[float, float]]]] = []
    for i, data in enumerate(shapes):
        check_image_size(*sizes[i])
        points = _fast_points(data, labels, kinds, max_points)
        if points is None:
            results[i] = _one(data, sizes[i], labels, kinds, max_points)
        else:
            fast.append((i, points))
    if fast:
        for i, points in _polygons(fast, sizes):
            data = shapes[i]
            if points is None:
                results[i] = _one(data, sizes[i], labels, kinds, max_points)
            else:
                ring, area = points
                results[i] = {
                    "kind": "polygon",
                    "label": data["label"],
                    "points": [list(p) for p in ring],
                    "bbox": list(polygon_bbox(ring)),
                    "area": area,
                }
    return results  # type: ignore[return-value]


def _one(data, size, labels, kinds, max_points) -> dict[str, Any] | GeometryError:
    try:
        return validate_shape(
            data,
            width=size[0],
            height=size[1],
            labels=labels,
            kinds=kinds,
            max_points=max_points,
        )
    except GeometryError as exc:
        return exc


def _fast_points(data, labels, kinds, max_points):
    """The parsed points of a well-formed polygon shape, else None."""
    if (
        not isinstance(data, dict)
        or data.get("kind") != "polygon"
        or "polygon" not in kinds
        or not isinstance(data.get("label"), str)
        or data["label"] not in labels
    ):
        return None
    try:
        return parse_points(data.get("points"), max_points)
    except GeometryError:
        return None


def _ragged(rings: list[list[tuple[float, float]]]):
    coords = np.array([p for ring in rings for p in ring], dtype=float)
    index = np.repeat(np.arange(len(rings)), [len(ring) for ring in rings])
    return coords, index


def _polygons(fast, sizes):
    """(index, (rounded ring, area)) for each polygon on the fast path, or
    (index, None) where validate_shape itself must decide."""
    rings = [points for _, points in fast]
    coords, index = _ragged(rings)
    polys = shapely.polygons(shapely.linearrings(coords, indices=index))
    hull = shapely.area(shapely.convex_hull(shapely.multipoints(coords, indices=index)))
    widths = np.array([sizes[i][0] for i, _ in fast], dtype=float)
    heights = np.array([sizes[i][1] for i, _ in fast], dtype=float)
    images = shapely.box(0, 0, widths, heights)
    ok = (
        (hull != 0.0)
        & shapely.is_valid(polys)
        & (shapely.area(polys) >= 1.0)
        & shapely.covers(images, polys)
    )
    ccw = shapely.is_ccw(shapely.get_exterior_ring(polys))
    oriented = polys.copy()
    oriented[ccw] = shapely.orient_polygons(polys[ccw], exterior_cw=False)
    oriented[~ccw] = shapely.orient_polygons(polys[~ccw], exterior_cw=True)
    ring_coords, ring_index = shapely.get_coordinates(
        shapely.get_exterior_ring(oriented), return_index=True
    )
    bounds = np.searchsorted(ring_index, np.arange(len(fast) + 1))
    flat = ring_coords.tolist()
    rounded: list[list[tuple[float, float]] | None] = []
    for k in range(len(fast)):
        rounded.append(
            _round_ring(flat[bounds[k] : bounds[k + 1] - 1]) if ok[k] else None
        )
    candidates = [k for k, ring in enumerate(rounded) if ring is not None]
    if candidates:
        coords2, index2 = _ragged([rounded[k] for k in candidates])
        polys2 = shapely.polygons(shapely.linearrings(coords2, indices=index2))
        valid2 = shapely.is_valid(polys2)
        area2 = shapely.area(polys2)
        for j, k in enumerate(candidates):
            if not valid2[j] or area2[j] < 1.0:
                rounded[k] = None
            else:
                rounded[k] = (tuple(rounded[k]), round(float(area2[j]), DECIMALS))
    for k, (i, _) in enumerate(fast):
        yield i, rounded[k]


def _round_ring(coords) -> list[tuple[float, float]] | None:
    """ml.geometry._rounded_ring's rounding, on a ring without its closing point."""
    pts: list[tuple[float, float]] = []
    for x, y in coords:
        p = (round(x, DECIMALS) + 0.0, round(y, DECIMALS) + 0.0)
        if not pts or p != pts[-1]:
            pts.append(p)
    while len(pts) > 1 and pts[-1] == pts[0]:
        pts.pop()
    if len(pts) < 3 or not all(math.isfinite(v) for p in pts for v in p):
        return None
    return pts
