"""Click-to-segment with a promptable segmentation model (ultralytics SAM,
MobileSAM, SAM 2) from weights on disk: a point prompt gives one polygon."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ml.backends.ultralytics.offline import require_offline

# ultralytics picks the SAM builder by the file name's ending (build.build_sam):
# the weights must be stored under one of these names.
SAM_WEIGHT_NAMES = (
    "sam_b.pt",
    "sam_l.pt",
    "sam_h.pt",
    "mobile_sam.pt",
    "sam2_t.pt",
    "sam2_s.pt",
    "sam2_b.pt",
    "sam2_l.pt",
    "sam2.1_t.pt",
    "sam2.1_s.pt",
    "sam2.1_b.pt",
    "sam2.1_l.pt",
)
SIMPLIFY_PIXELS = 1.0  # polygon simplification tolerance (Douglas-Peucker)


def sam_weights_name_ok(path: str | Path) -> bool:
    """Whether ultralytics can tell the SAM model by this file's name."""
    return Path(path).name.endswith(SAM_WEIGHT_NAMES)


@lru_cache(maxsize=2)
def _sam(weights: str):
    from ultralytics import SAM

    return SAM(weights)


def segment_point(
    *, weights: str | Path, image: str | Path, x: float, y: float, device: str = "cpu"
) -> list[tuple[float, float]] | None:
    """The polygon (image pixels) of the region a positive point prompt at
    (x, y) selects, or None when the model finds no region there.

    Of the mask's outer contours, the one holding the point (else the largest)
    is taken and simplified by SIMPLIFY_PIXELS. Raises FileNotFoundError when
    the weights are not on disk (ultralytics would download a missing file by
    name) and ValueError for a file name ultralytics cannot tell the model by.
    Needs setup_offline() first."""
    require_offline()
    weights = Path(weights)
    if not weights.is_file():
        raise FileNotFoundError(f"no segmentation weights at {weights}")
    if not sam_weights_name_ok(weights):
        raise ValueError(
            "weights file name must end with " + ", ".join(SAM_WEIGHT_NAMES)
        )
    results = _sam(str(weights.resolve())).predict(
        str(image),
        points=[[float(x), float(y)]],
        labels=[1],
        device=device,
        verbose=False,
    )
    masks = results[0].masks if results else None
    if masks is None or len(masks.data) == 0:
        return None
    return mask_polygon(masks.data[0].cpu().numpy(), x, y)


def mask_polygon(mask, x: float, y: float) -> list[tuple[float, float]] | None:
    """One simple polygon of a boolean mask: the outer contour holding (x, y),
    else the largest, made valid (shapely) and simplified by SIMPLIFY_PIXELS
    without self-intersection; None when nothing of at least 1 px² is left."""
    import cv2
    import numpy as np
    from shapely.geometry import Point, Polygon
    from shapely.validation import make_valid

    contours, _ = cv2.findContours(
        np.ascontiguousarray(mask, dtype=np.uint8),
        cv2.RETR_EXTERNAL,
        cv2.CHAIN_APPROX_SIMPLE,
    )
    polygons = []
    for contour in contours:
        if len(contour) < 3:
            continue
        shape = make_valid(Polygon(contour.reshape(-1, 2).astype(float)))
        parts = getattr(shape, "geoms", [shape])
        polygons.extend(p for p in parts if isinstance(p, Polygon) and p.area >= 1.0)
    if not polygons:
        return None
    click = Point(float(x), float(y))
    holding = [p for p in polygons if p.buffer(0.5).contains(click)]
    chosen = max(holding or polygons, key=lambda p: p.area)
    simple = chosen.simplify(SIMPLIFY_PIXELS, preserve_topology=True)
    if not isinstance(simple, Polygon) or not simple.is_valid or simple.area < 1.0:
        simple = chosen
    return [(float(px), float(py)) for px, py in list(simple.exterior.coords)[:-1]]
