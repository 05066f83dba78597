"""Which errors a new model version fixed and which it introduced.

Both versions' records (:func:`ml.errors.match_images`) must come from the
same ground truth (same images, same shape order). An error is identified by
where it is:

* an error about a shape (``missed``, ``confusion``, ``localization``,
  ``both``, ``duplicate``) by ``(image id, shape index, kind)``; several
  records with one key (two duplicates on one shape) are one error, and the
  most confident record stands for it;
* a ``background`` false positive by its region: per image, the old and the
  new version's background boxes are matched greedily by descending
  confidence at box IoU >= ``region_iou`` (default 0.5), whatever their
  predicted class. A matched pair is the same error.

An old error without a new counterpart was **fixed**, a new one without an
old counterpart was **introduced**, a pair is **kept**. True positives are
not errors and are ignored.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass

from ml.errors import BACKGROUND, ERROR_KINDS, TRUE_POSITIVE, ErrorRecord
from ml.geometry import box_iou

REGION_IOU = 0.5


@dataclass(frozen=True)
class VersionDiff:
    """``fixed`` holds old records, ``introduced`` new ones, ``kept`` pairs
    ``(old, new)``; each sorted by image (in the order the images first
    appear, old records first), then shape index (background last), kind."""

    fixed: tuple[ErrorRecord, ...]
    introduced: tuple[ErrorRecord, ...]
    kept: tuple[tuple[ErrorRecord, ErrorRecord], ...]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{"fixed"|"introduced"|"kept": {kind: n}}`` over every error kind."""
        return _count(self, None)

    def per_slice(
        self, slices: Mapping[Hashable, str | Collection[str]]
    ) -> dict[str, dict[str, dict[str, int]]]:
        """:meth:`counts` per slice (image id -> tag or tags, as in
        ml.errors.summarize); only the slices that occur."""
        tags: set[str] = set()
        for value in slices.values():
            tags.update((value,) if isinstance(value, str) else value)
        out = {t: _count(self, (t, slices)) for t in sorted(tags)}
        return {
            t: c for t, c in out.items() if any(sum(v.values()) for v in c.values())
        }


def _in_slice(r: ErrorRecord, where) -> bool:
    if where is None:
        return True
    tag, slices = where
    value = slices.get(r.image_id)
    if value is None:
        return False
    return value == tag if isinstance(value, str) else tag in value


def _count(diff: VersionDiff, where) -> dict[str, dict[str, int]]:
    out = {
        name: dict.fromkeys(ERROR_KINDS, 0) for name in ("fixed", "introduced", "kept")
    }
    for r in diff.fixed:
        if _in_slice(r, where):
            out["fixed"][r.kind] += 1
    for r in diff.introduced:
        if _in_slice(r, where):
            out["introduced"][r.kind] += 1
    for old, _new in diff.kept:
        if _in_slice(old, where):
            out["kept"][old.kind] += 1
    return out


def _by_key(records: Iterable[ErrorRecord]) -> tuple[dict, dict]:
    """Shape errors by key (most confident first wins) and background
    records per image, both in the order first seen."""
    shape_errors: dict[tuple, ErrorRecord] = {}
    background: dict[Hashable, list[ErrorRecord]] = {}
    for r in records:
        if r.kind == TRUE_POSITIVE:
            continue
        if r.kind == BACKGROUND:
            background.setdefault(r.image_id, []).append(r)
            continue
        key = (r.image_id, r.gt_index, r.kind)
        held = shape_errors.get(key)
        if held is None or (r.confidence or 0.0) > (held.confidence or 0.0):
            shape_errors[key] = r
    return shape_errors, background


def _match_regions(
    old: list[ErrorRecord], new: list[ErrorRecord], region_iou: float
) -> tuple[list, list, list]:
    def conf(r: ErrorRecord) -> float:
        return r.confidence or 0.0

    old_sorted = sorted(range(len(old)), key=lambda i: (-conf(old[i]), i))
    new_sorted = sorted(range(len(new)), key=lambda j: (-conf(new[j]), j))
    used_old: set[int] = set()
    pairs, introduced = [], []
    for j in new_sorted:
        best, best_iou = None, region_iou
        for i in old_sorted:
            if i in used_old or old[i].bbox is None or new[j].bbox is None:
                continue
            v = box_iou(old[i].bbox, new[j].bbox)
            if v >= best_iou and (best is None or v > best_iou):
                best, best_iou = i, v
        if best is None:
            introduced.append(new[j])
        else:
            used_old.add(best)
            pairs.append((old[best], new[j]))
    fixed = [old[i] for i in range(len(old)) if i not in used_old]
    return fixed, introduced, pairs


def diff_versions(
    old: Iterable[ErrorRecord],
    new: Iterable[ErrorRecord],
    *,
    region_iou: float = REGION_IOU,
) -> VersionDiff:
    """The errors ``new`` fixed, introduced and kept relative to ``old``
    (module docstring). Raises ValueError when region_iou is not in (0, 1]."""
    if not 0.0 < region_iou <= 1.0:
        raise ValueError("region_iou must be in (0, 1]")
    old, new = list(old), list(new)
    rank = {i: n for n, i in enumerate(dict.fromkeys(r.image_id for r in old + new))}
    old_shape, old_bg = _by_key(old)
    new_shape, new_bg = _by_key(new)
    fixed = [r for k, r in old_shape.items() if k not in new_shape]
    introduced = [r for k, r in new_shape.items() if k not in old_shape]
    kept = [(r, new_shape[k]) for k, r in old_shape.items() if k in new_shape]
    for image_id in dict.fromkeys([*old_bg, *new_bg]):
        f, i, p = _match_regions(
            old_bg.get(image_id, []), new_bg.get(image_id, []), region_iou
        )
        fixed += f
        introduced += i
        kept += p

    def order(r: ErrorRecord) -> tuple:
        gt = r.gt_index if r.gt_index is not None else float("inf")
        return (rank[r.image_id], gt, ERROR_KINDS.index(r.kind), r.pred_index or 0)

    return VersionDiff(
        tuple(sorted(fixed, key=order)),
        tuple(sorted(introduced, key=order)),
        tuple(sorted(kept, key=lambda pair: order(pair[0]))),
    )
