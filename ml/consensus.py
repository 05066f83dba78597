"""Consensus between two annotators: which items get a second annotator, and how
far two versions of the same image agree (IoU-matched shapes with equal labels);
which label claims are hidden ground-truth checks."""

import hashlib
from collections.abc import Mapping, Sequence

from shapely.geometry import Polygon

from ml.geometry import box_iou, polygon_bbox

AGREEMENT_IOU = 0.5


def consensus_selected(item_id: int, seed: int, share: float) -> bool:
    """Whether an item goes to two annotators: a seeded hash of (seed, item id)
    read as a number in [0, 1) is below `share` (0 never, 1 always). The same
    arguments give the same answer in every process."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be in [0, 1]")
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def check_due(user_id: int, claims: int, seed: int, share: float) -> bool:
    """Whether an annotator's next label claim (their `claims`-th in the
    project, from 0) is a hidden ground-truth check: a seeded hash of (seed,
    "check", user id, claims) read as a number in [0, 1) is below `share`. The
    same arguments give the same answer in every process."""
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be in [0, 1]")
    key = f"{seed}:check:{user_id}:{claims}".encode()
    digest = hashlib.sha256(key).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _bounds(shape: Mapping) -> tuple[float, float, float, float]:
    if shape.get("kind") == "polygon":
        return polygon_bbox(shape["points"])
    return tuple(float(v) for v in shape["bbox"])


def shape_iou(a: Mapping, b: Mapping) -> float:
    """IoU of two API-shaped shapes: polygon area overlap when both are polygons,
    else the overlap of their (x, y, w, h) bounds."""
    if a.get("kind") == "polygon" and b.get("kind") == "polygon":
        pa, pb = Polygon(a["points"]), Polygon(b["points"])
        if not (pa.is_valid and pb.is_valid):
            return box_iou(_bounds(a), _bounds(b))
        union = pa.union(pb).area
        return 0.0 if union <= 0 else min(1.0, pa.intersection(pb).area / union)
    return box_iou(_bounds(a), _bounds(b))


def agreement(
    shapes_a: Sequence[Mapping], shapes_b: Sequence[Mapping], iou: float = AGREEMENT_IOU
) -> float:
    """Agreement of two versions of one image, in [0, 1]: an F1 over shapes,
    2 * matched / (len(a) + len(b)), where a match pairs a shape of `a` with one
    of `b` of the same label at IoU >= `iou`, one-to-one, greedily by highest
    IoU first (ties by index). Two empty versions agree fully (1.0).
    Raises ValueError for `iou` outside (0, 1]."""
    if not 0.0 < iou <= 1.0:
        raise ValueError("iou must be in (0, 1]")
    if not shapes_a and not shapes_b:
        return 1.0
    pairs = []
    for i, a in enumerate(shapes_a):
        for j, b in enumerate(shapes_b):
            if a["label"] != b["label"]:
                continue
            value = shape_iou(a, b)
            if value >= iou:
                pairs.append((-value, i, j))
    pairs.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    for _, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
    return 2 * len(used_a) / (len(shapes_a) + len(shapes_b))
