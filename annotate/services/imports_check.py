"""The checks of a COCO import, in bounded memory: categories and images are
held (per image), annotations are checked one at a time as the source yields
them and their shapes validated in batches; every problem is collected, named
by its JSON path, in the order the whole-document check always gave."""

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from annotate import coco
from annotate.models import Project, Split
from annotate.selectors import item_sizes
from annotate.services.imports_match import match_items
from ml.geometry import GeometryError
from ml.geometry_batch import validate_shapes_batch

MAX_ERRORS = 200
IMAGE_STATUSES = ("done", "review")
MAX_SHAPES_PER_IMAGE = 10_000
# Shapes validated together, and item ids per query: memory stays bounded by
# these, not by the file.
SHAPE_BATCH = 100
ID_CHUNK = 5_000


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


class ImportErrors(list):
    def add(self, where: str, reason: str) -> None:
        if len(self) < MAX_ERRORS:
            self.append(f"{where}: {reason}")
        elif len(self) == MAX_ERRORS:
            self.append("... more errors left out")


class _SeenIds:
    """The annotation ids met so far: one bit each for 0 .. 2**26 (COCO ids are
    dense small integers; 8 MiB at most), a set for any other. A set of
    500,000 ids would take 30 MB."""

    LIMIT = 1 << 26

    def __init__(self):
        self._bits = bytearray()
        self._others: set[int] = set()

    def add(self, value: int) -> bool:
        """Record `value`; False if it was already there."""
        if not 0 <= value < self.LIMIT:
            if value in self._others:
                return False
            self._others.add(value)
            return True
        byte, bit = value >> 3, 1 << (value & 7)
        if byte >= len(self._bits):
            self._bits.extend(bytes(max(byte + 1 - len(self._bits), len(self._bits))))
        if self._bits[byte] & bit:
            return False
        self._bits[byte] |= bit
        return True


@dataclass(frozen=True)
class _Item:
    pk: int
    width: int
    height: int


def _categories(categories, project, category_map, add_labels, errors):
    """COCO category id -> project label, and the labels to add."""
    found: dict[int, str] = {}
    unknown: list[str] = []
    for i, cat in enumerate(categories):
        where = f"categories[{i}]"
        if not isinstance(cat, dict):
            errors.add(where, "not an object")
            continue
        cid, name = cat.get("id"), cat.get("name")
        if not _is_int(cid):
            errors.add(where, "id must be an integer")
        elif cid in found:
            errors.add(where, f"duplicate id {cid}")
        elif not isinstance(name, str) or not name.strip() or len(name) > 64:
            errors.add(where, "name must be a string of 1 to 64 characters")
        else:
            label = category_map.get(name, name)
            if label not in project.labels and label not in unknown:
                unknown.append(label)
            found[cid] = label
    if unknown and not add_labels:
        errors.add(
            "categories",
            "not labels of this project (map them with category_map or add them "
            f"with categories=add): {', '.join(repr(n[:64]) for n in unknown[:50])}",
        )
    return found, unknown if add_labels else []


def _images(images_in, errors):
    images: dict[int, dict] = {}
    for i, img in enumerate(images_in):
        where = f"images[{i}]"
        if not isinstance(img, dict):
            errors.add(where, "not an object")
            continue
        iid, name = img.get("id"), img.get("file_name")
        split, status = img.get("split"), img.get("status")
        if not _is_int(iid):
            errors.add(where, "id must be an integer")
        elif iid in images:
            errors.add(where, f"duplicate id {iid}")
        elif not isinstance(name, str) or not name.strip("/") or len(name) > 1024:
            errors.add(where, "file_name must be a non-empty path of <= 1024 chars")
        elif "\x00" in name or "\\" in name:
            errors.add(where, "file_name must not hold NUL or backslashes")
        elif split is not None and split not in Split.values:
            errors.add(where, f"split must be one of {', '.join(Split.values)}")
        elif status is not None and status not in IMAGE_STATUSES:
            errors.add(where, f"status must be one of {', '.join(IMAGE_STATUSES)}")
        else:
            size = (img.get("width"), img.get("height"))
            images[iid] = {
                "size": size if all(_is_int(v) for v in size) else None,
                "name": "/".join(p for p in name.split("/") if p not in {"", "."}),
                "split": split,
                "status": status or "done",
            }
    return images


class CocoCheck:
    """Validate a COCO source against the project.

    `head()` checks categories and images and matches the images to items;
    `shapes()` then yields (item id, validated shape) for every annotation, in
    file order, while collecting the problems. Conversions are counted in
    `converted`: an RLE region (crowd) becomes one polygon per outer contour,
    or its bounding box when the project has no polygons; a polygon of several
    rings becomes one polygon per ring; a polygon in a box-only project becomes
    its bounding box. After `shapes()` is exhausted, `raise_errors()` raises
    ValidationError({"file": [...]}) listing every problem (up to MAX_ERRORS).
    While `failed`, what was yielded must not be kept. A source that reads
    another format (annotate.services.dataset_sources) gathers its own
    problems in `source.errors` as it yields; those, if any, are the ones
    raised, as when the file was converted whole before the check.
    """

    def __init__(self, *, project: Project, source, category_map, add_labels):
        self.project = project
        self.source = source
        self.category_map = category_map or {}
        self.add_labels = add_labels
        self.errors = ImportErrors()
        self.converted: Counter = Counter()
        # Per image (held): the matched item, its split and status from the file.
        self.items: dict[int, _Item] = {}
        self.images: dict[int, dict] = {}
        self._geometry_errors: dict[int, tuple[str, str]] = {}
        self._counts: Counter = Counter()
        self._source_errors = getattr(source, "errors", ())

    @property
    def failed(self) -> bool:
        return bool(self.errors or self._geometry_errors or self._source_errors)

    def raise_errors(self) -> None:
        if self._source_errors:
            raise ValidationError({"file": list(self._source_errors)})
        for iid in self.items:
            if self._counts[iid] > MAX_SHAPES_PER_IMAGE:
                self.errors.add(
                    f"image {iid}",
                    f"too many annotations ({self._counts[iid]} > "
                    f"{MAX_SHAPES_PER_IMAGE})",
                )
            elif iid in self._geometry_errors:
                self.errors.add(*self._geometry_errors[iid])
        if self.errors:
            raise ValidationError({"file": list(self.errors)})

    def head(self) -> None:
        errors = self.errors
        if self.source.problems:
            raise ValidationError({"file": list(self.source.problems)})
        self.categories, self.labels_added = _categories(
            self.source.categories(),
            self.project,
            self.category_map,
            self.add_labels,
            errors,
        )
        self.labels = list(self.project.labels) + self.labels_added
        images = self.images = _images(self.source.images(), errors)
        counts = Counter(img["name"] for img in images.values())
        for name, n in counts.items():
            if n > 1:
                errors.add("images", f"file_name {name[:80]!r} appears {n} times")
        known = getattr(self.source, "item_of", None) or {}
        matches = match_items(self.project, [n for n in counts if n not in known])
        matches.update((name, [pk]) for name, pk in known.items() if name in counts)
        item_of: dict[int, int] = {}
        for iid, img in images.items():
            ids = matches.get(img["name"], [])
            if not ids:
                errors.add(
                    f"image {iid}",
                    f"no item named {img['name'][:80]!r} in this project",
                )
            elif len(ids) > 1:
                errors.add(
                    f"image {iid}", f"{len(ids)} items are named {img['name'][:80]!r}"
                )
            else:
                item_of[iid] = ids[0]
        wanted = list(set(item_of.values()))
        sizes: dict[int, tuple[int, int]] = {}
        for start in range(0, len(wanted), ID_CHUNK):
            sizes.update(
                item_sizes(
                    project=self.project, item_ids=wanted[start : start + ID_CHUNK]
                )
            )
        for iid, item_id in item_of.items():
            width, height = sizes[item_id]
            size = images[iid]["size"]
            if size and size != (width, height):
                errors.add(
                    f"image {iid}",
                    f"size {size[0]}x{size[1]} is not the image's {width}x{height}",
                )
            self.items[iid] = _Item(item_id, width, height)
        matched = Counter(item_of.values())
        for iid, item_id in item_of.items():
            if matched[item_id] > 1:
                errors.add(f"image {iid}", f"item {item_id} is named by several images")

    def shapes(self) -> Iterator[tuple[int, dict]]:
        errors, images, items = self.errors, self.images, self.items
        categories = self.categories
        seen_ids = _SeenIds()
        pending: list[tuple[int, str, float | None, dict]] = []
        for i, ann in enumerate(self.source.annotations()):
            where = f"annotations[{i}]"
            if not isinstance(ann, dict):
                errors.add(where, "not an object")
                continue
            aid = ann.get("id")
            if not _is_int(aid):
                errors.add(where, "id must be an integer")
            elif not seen_ids.add(aid):
                errors.add(where, f"duplicate id {aid}")
            image_id, category_id = ann.get("image_id"), ann.get("category_id")
            if not _is_int(image_id) or image_id not in images:
                errors.add(where, "image_id points to no image")
                continue
            if not _is_int(category_id) or category_id not in categories:
                errors.add(where, "category_id points to no category")
                continue
            confidence = ann.get("score")
            if confidence is not None and not (
                is_number(confidence) and 0 <= confidence <= 1
            ):
                errors.add(where, "score must be a number from 0 to 1")
                continue
            item = items.get(image_id)
            shapes = self._coco_shapes(ann, categories[category_id], where, item)
            if item is None:
                continue
            score = None if confidence is None else float(confidence)
            for shape in shapes:
                self._counts[image_id] += 1
                pending.append((image_id, where, score, shape))
            if len(pending) >= SHAPE_BATCH:
                yield from self._validated(pending)
                pending = []
        yield from self._validated(pending)

    def _validated(self, pending) -> Iterator[tuple[int, dict]]:
        """Validate shapes (the first bad shape of an image is its error)."""
        bad = self._geometry_errors
        pending = [p for p in pending if p[0] not in bad]
        results = validate_shapes_batch(
            [shape for _, _, _, shape in pending],
            [(self.items[i].width, self.items[i].height) for i, _, _, _ in pending],
            labels=self.labels,
            kinds=self.project.kinds,
        )
        for (image_id, where, score, _), cleaned in zip(pending, results, strict=True):
            if image_id in bad:
                continue
            if isinstance(cleaned, GeometryError):
                bad[image_id] = (where, cleaned.reason)
                continue
            cleaned["confidence"] = score
            yield self.items[image_id].pk, cleaned

    def _coco_shapes(self, ann, label, where, item) -> list[dict]:
        """The alweb shapes of one COCO annotation (none after an error)."""
        errors = self.errors
        polygons = "polygon" in self.project.kinds
        segmentation = ann.get("segmentation")
        if ann.get("shape") == "box" or segmentation in (None, []):
            bbox = _bbox_of(ann, where, errors)
            return (
                [] if bbox is None else [{"kind": "box", "label": label, "bbox": bbox}]
            )
        if isinstance(segmentation, dict):
            if item is None:
                return []
            try:
                kind, geometries = coco.rle_to_shapes(
                    segmentation,
                    height=item.height,
                    width=item.width,
                    polygons=polygons,
                )
            except ValueError as exc:
                errors.add(where, str(exc))
                return []
            self.converted["rle_to_boxes" if kind == "box" else "rle_to_polygons"] += 1
            key = "points" if kind == "polygon" else "bbox"
            return [{"kind": kind, "label": label, key: g} for g in geometries]
        if not isinstance(segmentation, list) or not all(
            isinstance(ring, list) for ring in segmentation
        ):
            errors.add(where, "segmentation must be a list of polygons [[x1, y1, ...]]")
            return []
        if sum(len(ring) for ring in segmentation) > 200_000:
            errors.add(where, "segmentation has too many coordinates")
            return []
        if any(len(ring) % 2 for ring in segmentation):
            errors.add(where, "segmentation has an odd number of coordinates")
            return []
        if not polygons:
            bbox = _bbox_of(ann, where, errors)
            if bbox is None:
                return []
            self.converted["polygons_to_boxes"] += 1
            return [{"kind": "box", "label": label, "bbox": bbox}]
        if len(segmentation) > 1:
            self.converted["multi_ring_split"] += 1
        return [
            {
                "kind": "polygon",
                "label": label,
                "points": [[ring[j], ring[j + 1]] for j in range(0, len(ring), 2)],
            }
            for ring in segmentation
        ]


def _bbox_of(ann, where, errors):
    bbox = ann.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        errors.add(where, "bbox must be a list of 4 numbers [x, y, width, height]")
        return None
    return bbox
