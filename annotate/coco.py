"""COCO format rules shared by the export and the import (no database writes).

Chosen over a format library (Datumaro, supervision, globox): alweb needs every
problem of a file reported by JSON path and checked against the project before
anything is written, which those libraries' loaders do not do (they raise on the
first problem or silently drop it), and Datumaro and supervision each pull in a
large dependency tree for what is a few hundred lines here. pycocotools, the
reference implementation, is used where hand-written code would be risky: RLE
decoding (and COCOeval in the tests).
"""

import re
import warnings

from annotate import formats

# An export's file_name for an item whose name is shared with another item of
# the project: "<folder>/<stem>~<item id>.<ext>".
DUPLICATE_SUFFIX = re.compile(r"^(?P<head>.*)~(?P<pk>\d{1,19})(?P<ext>\.[^./]*)?$")
MAX_RLE_PIXELS = 100_000_000


def item_base_name(item_id: int, source_path: str, original_name: str, fmt: str) -> str:
    """The item's name in an export before duplicates are told apart: the
    upload's relative path, else its display name, else item_<id>.<ext>."""
    name = source_path or original_name or ""
    if name in {"", ".", ".."} or "\\" in name or name.startswith("/"):
        return f"item_{item_id}.{formats.image_format(fmt).extension}"
    if any(part in {"", ".", ".."} for part in name.split("/")):
        return f"item_{item_id}.{formats.image_format(fmt).extension}"
    return name


def unique_file_name(base: str, item_id: int, duplicated: set[str]) -> str:
    """`base` itself, or "<stem>~<id>.<ext>" when another item shares it."""
    if base not in duplicated:
        return base
    folder, _, leaf = base.rpartition("/")
    stem, dot, ext = leaf.rpartition(".")
    leaf = f"{stem}~{item_id}.{ext}" if dot and stem else f"{leaf}~{item_id}"
    return f"{folder}/{leaf}" if folder else leaf


def box_segmentation(bbox) -> list[list[float]]:
    """A box as the one-ring polygon of its corners (COCO tools need a
    segmentation on every annotation: annToMask, COCOeval segm)."""
    x, y, w, h = bbox
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def rle_to_shapes(segmentation: dict, *, height: int, width: int, polygons: bool):
    """Decode a COCO RLE region (compressed or list counts) with pycocotools.

    Returns (kind, geometries): ("polygon", [points, ...]) with one polygon per
    outer contour when `polygons`, else ("box", [bbox]) with the mask's bounding
    box; ValueError with a reason for a malformed or mismatched region.
    """
    import numpy as np
    from pycocotools import mask as mask_utils

    size = segmentation.get("size")
    counts = segmentation.get("counts")
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)
    ):
        raise ValueError("RLE size must be [height, width]")
    if size != [height, width]:
        raise ValueError(f"RLE size {size} is not the image's [{height}, {width}]")
    if height * width > MAX_RLE_PIXELS:
        raise ValueError("RLE region too large")
    if isinstance(counts, list):
        if not all(
            isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts
        ):
            raise ValueError("RLE counts must be non-negative integers")
        if sum(counts) != height * width:
            raise ValueError("RLE counts do not add up to height x width")
        rle = mask_utils.frPyObjects({"size": size, "counts": counts}, height, width)
    elif isinstance(counts, str):
        if not counts.isascii() or not all(48 <= ord(c) < 112 for c in counts):
            raise ValueError("RLE counts string has characters outside COCO's alphabet")
        rle = {"size": size, "counts": counts.encode()}
    else:
        raise ValueError("RLE counts must be a list of integers or a string")
    try:
        with warnings.catch_warnings():
            # pycocotools 2.0.11's Cython under numpy 2 warns about __array__'s
            # copy keyword on every decode; the result is right.
            warnings.simplefilter("ignore", DeprecationWarning)
            mask = mask_utils.decode(rle)
    except Exception as exc:  # noqa: BLE001 - pycocotools raises bare errors
        raise ValueError(f"RLE does not decode: {exc}"[:200]) from None
    if mask.shape[:2] != (height, width) or int(mask.sum()) == 0:
        raise ValueError("RLE region is empty")
    if not polygons:
        ys, xs = np.nonzero(mask)
        x0, y0 = int(xs.min()), int(ys.min())
        return "box", [[x0, y0, int(xs.max()) + 1 - x0, int(ys.max()) + 1 - y0]]
    import cv2

    contours, _ = cv2.findContours(
        np.ascontiguousarray(mask, dtype=np.uint8),
        cv2.RETR_EXTERNAL,
        cv2.CHAIN_APPROX_SIMPLE,
    )
    rings = []
    for contour in contours:
        points = [[float(x), float(y)] for x, y in contour.reshape(-1, 2)]
        if len(points) >= 3 and cv2.contourArea(contour) > 0:
            rings.append(points)
    if not rings:
        raise ValueError("RLE region has no polygon of positive area")
    return "polygon", rings
