"""Error buckets: predictions matched to ground truth the way COCO and TIDE do.

Per image, the predictions (at or above ``min_confidence``) are matched to the
ground-truth shapes greedily by descending confidence (ties: lower prediction
index first): each prediction takes the not yet matched shape **of its class**
with the highest IoU, if that IoU is at least ``iou`` (default 0.5; ties: lower
shape index). Those pairs are true positives. A class-agnostic pass then
explains every other prediction by the shape it overlaps most (TIDE's order):

* ``duplicate``: IoU >= ``iou`` with a shape of its class that a more confident
  prediction already matched;
* ``confusion``: IoU >= ``iou`` with a shape of another class (right place,
  wrong class);
* ``localization``: IoU in [``background_iou``, ``iou``) with a shape of its
  class (right class, poor box);
* ``both``: IoU in [``background_iou``, ``iou``) with a shape of another class
  only (TIDE's "both": wrong class and poor box);
* ``background``: IoU < ``background_iou`` (default 0.1) with every shape (a
  false positive on the background).

Every shape that no true positive matched is ``missed`` (COCO's false
negatives, so true positives + missed = the number of shapes); its record
names the most overlapping prediction that explains the miss, if any
(``predicted``, ``iou`` and ``confidence``: a confusion, a poor box or
nothing). With ``class_agnostic=True`` every class counts as the same class:
boxes alone are judged, so there is no confusion and no ``both``.

IoU is box IoU in pixels; a polygon (of a shape or a detection) is judged by
its bounding box (``bounds()`` / ``Detection.bbox``), as the detector's boxes
are.

:func:`summarize` counts records per kind, per class (the shape's class; a
background prediction counts under its predicted class) and per slice (any
image id -> tag mapping, e.g. the split or a tag), each bucket with the image
ids behind it. :func:`diff_versions` tells which errors a new model version
fixed and which it introduced, on the same ground truth.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ml.geometry import box_iou
from ml.types import BBox, Detection, Shape

TRUE_POSITIVE = "true_positive"
DUPLICATE = "duplicate"
CONFUSION = "confusion"
LOCALIZATION = "localization"
BOTH = "both"
BACKGROUND = "background"
MISSED = "missed"
KINDS: tuple[str, ...] = (
    TRUE_POSITIVE,
    BACKGROUND,
    MISSED,
    LOCALIZATION,
    CONFUSION,
    DUPLICATE,
    BOTH,
)
ERROR_KINDS: tuple[str, ...] = KINDS[1:]
PREDICTION_KINDS = frozenset(KINDS) - {MISSED}
MATCH_IOU = 0.5
BACKGROUND_IOU = 0.1

ImageId = Hashable


@dataclass(frozen=True)
class ErrorRecord:
    """One prediction or one missed shape of one image.

    ``gt_index`` indexes the image's shapes, ``pred_index`` its detections
    (the list as given, before the confidence filter). ``label`` is the
    shape's class (None for background), ``predicted`` the prediction's
    class (None for a miss that no prediction explains). ``iou`` is the IoU
    of the pair (0.0 when there is no pair), ``confidence`` and ``bbox`` the
    prediction's (None without one).
    """

    image_id: ImageId
    kind: str
    gt_index: int | None
    pred_index: int | None
    label: str | None
    predicted: str | None
    iou: float
    confidence: float | None
    bbox: BBox | None = None

    @property
    def cls(self) -> str:
        """The class the record is counted under: the shape's, else the
        prediction's (background)."""
        return self.label if self.label is not None else str(self.predicted)


def _bounds(shape: Shape) -> tuple[float, float, float, float]:
    return shape.bounds()


def _check(iou: float, background_iou: float, min_confidence: float) -> None:
    if not 0.0 < iou <= 1.0:
        raise ValueError("iou must be in (0, 1]")
    if not 0.0 <= background_iou <= iou:
        raise ValueError("background_iou must be in [0, iou]")
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError("min_confidence must be in [0, 1]")


def match_image(
    image_id: ImageId,
    shapes: Sequence[Shape],
    detections: Sequence[Detection],
    *,
    iou: float = MATCH_IOU,
    background_iou: float = BACKGROUND_IOU,
    min_confidence: float = 0.0,
    class_agnostic: bool = False,
) -> list[ErrorRecord]:
    """The records of one image: one per kept prediction (in descending
    confidence) and one per missed shape (in shape order); see the module
    docstring. Raises ValueError for thresholds outside their range."""
    _check(iou, background_iou, min_confidence)
    gt_boxes = [_bounds(s) for s in shapes]
    gt_cls = ["" if class_agnostic else s.label for s in shapes]
    order = sorted(
        (i for i, d in enumerate(detections) if d.confidence >= min_confidence),
        key=lambda i: (-detections[i].confidence, i),
    )
    ious = {
        i: [box_iou(detections[i].bbox, g) for g in gt_boxes] for i in order
    }  # prediction index -> IoU with every shape
    matched: dict[int, int] = {}  # shape index -> prediction index
    records: list[ErrorRecord] = []
    for i in order:
        det = detections[i]
        cls = "" if class_agnostic else det.label
        row = ious[i]
        best = _argmax(row, lambda g, c=cls: gt_cls[g] == c and g not in matched)
        if best is not None and row[best] >= iou:
            matched[best] = i
            records.append(_record(image_id, TRUE_POSITIVE, best, i, shapes, det, row))
            continue
        kind, g = _explain(row, gt_cls, cls, iou, background_iou)
        records.append(_record(image_id, kind, g, i, shapes, det, row))
    for g, shape in enumerate(shapes):
        if g in matched:
            continue
        near = _nearest_explaining(g, records, ious, background_iou)
        if near is None:
            records.append(
                ErrorRecord(image_id, MISSED, g, None, shape.label, None, 0.0, None)
            )
        else:
            det = detections[near]
            records.append(
                ErrorRecord(
                    image_id,
                    MISSED,
                    g,
                    near,
                    shape.label,
                    det.label,
                    ious[near][g],
                    det.confidence,
                    det.bbox,
                )
            )
    return records


def _record(
    image_id: ImageId,
    kind: str,
    g: int | None,
    i: int,
    shapes: Sequence[Shape],
    det: Detection,
    row: Sequence[float],
) -> ErrorRecord:
    if g is None:
        label, v = None, 0.0
    else:
        label, v = shapes[g].label, row[g]
    return ErrorRecord(
        image_id, kind, g, i, label, det.label, v, det.confidence, det.bbox
    )


def _argmax(row: Sequence[float], keep) -> int | None:
    best = None
    for g, v in enumerate(row):
        if keep(g) and (best is None or v > row[best]):
            best = g
    return best


def _explain(
    row: Sequence[float],
    gt_cls: Sequence[str],
    cls: str,
    iou: float,
    background_iou: float,
) -> tuple[str, int | None]:
    """Why an unmatched prediction is wrong, and the shape it is about."""
    same = _argmax(row, lambda g: gt_cls[g] == cls)
    other = _argmax(row, lambda g: gt_cls[g] != cls)
    if same is not None and row[same] >= iou:
        return DUPLICATE, same
    if other is not None and row[other] >= iou:
        return CONFUSION, other
    if same is not None and row[same] >= background_iou and row[same] > 0:
        return LOCALIZATION, same
    if other is not None and row[other] >= background_iou and row[other] > 0:
        return BOTH, other
    return BACKGROUND, None


def _nearest_explaining(
    g: int,
    records: Sequence[ErrorRecord],
    ious: Mapping[int, Sequence[float]],
    background_iou: float,
) -> int | None:
    """The prediction explaining the miss of shape ``g``: among those whose
    record is about ``g`` (confusion, localization, both), the most
    overlapping (ties: the more confident, which comes first)."""
    best = None
    for r in records:
        if r.gt_index != g or r.kind not in (CONFUSION, LOCALIZATION, BOTH):
            continue
        if r.pred_index is None:
            continue
        v = ious[r.pred_index][g]
        if v >= background_iou and (best is None or v > ious[best][g]):
            best = r.pred_index
    return best


def match_images(
    items: Iterable[tuple[ImageId, Sequence[Shape], Sequence[Detection]]],
    *,
    iou: float = MATCH_IOU,
    background_iou: float = BACKGROUND_IOU,
    min_confidence: float = 0.0,
    class_agnostic: bool = False,
) -> list[ErrorRecord]:
    """:func:`match_image` of every ``(image_id, shapes, detections)``, in order."""
    out: list[ErrorRecord] = []
    for image_id, shapes, detections in items:
        out.extend(
            match_image(
                image_id,
                shapes,
                detections,
                iou=iou,
                background_iou=background_iou,
                min_confidence=min_confidence,
                class_agnostic=class_agnostic,
            )
        )
    return out


@dataclass(frozen=True)
class Bucket:
    """How many records of one kind, and the images they come from (each
    once, in the order first seen)."""

    count: int
    image_ids: tuple[ImageId, ...]


@dataclass(frozen=True)
class BucketSummary:
    """Counts per kind (every kind of KINDS is present, maybe empty), per class
    and per slice (only the classes and slices that occur). ``predicted``
    counts the predictions per predicted class (for precision: a confusion
    is counted under the shape's class, but it is a prediction of another)."""

    overall: dict[str, Bucket]
    per_class: dict[str, dict[str, Bucket]]
    per_slice: dict[str, dict[str, Bucket]] = field(default_factory=dict)
    predicted: dict[str, int] = field(default_factory=dict)

    def rates(self, cls: str | None = None) -> dict[str, float | None]:
        """Precision (true positives / predictions) and recall (true positives
        / shapes), overall or of one class; None where there is nothing to
        divide by."""
        b = self.overall if cls is None else self.per_class.get(cls, {})
        tp = b[TRUE_POSITIVE].count if TRUE_POSITIVE in b else 0
        missed = b[MISSED].count if MISSED in b else 0
        preds = (
            sum(self.predicted.values()) if cls is None else self.predicted.get(cls, 0)
        )
        return {
            "precision": tp / preds if preds else None,
            "recall": tp / (tp + missed) if tp + missed else None,
        }


class _Counter:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.ids: dict[str, dict[ImageId, None]] = {}

    def add(self, kind: str, image_id: ImageId) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.ids.setdefault(kind, {})[image_id] = None

    def buckets(self, every_kind: bool = False) -> dict[str, Bucket]:
        kinds = KINDS if every_kind else [k for k in KINDS if k in self.counts]
        return {
            k: Bucket(self.counts.get(k, 0), tuple(self.ids.get(k, {}))) for k in kinds
        }


def _tags(value: str | Collection[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def summarize(
    records: Iterable[ErrorRecord],
    slices: Mapping[ImageId, str | Collection[str]] | None = None,
) -> BucketSummary:
    """Buckets per kind, per class and per slice.

    ``slices`` maps an image id to its tag or tags (e.g. its split, or the
    item's tags); an image in several tags counts in each, an image missing
    from the mapping in none.
    """
    overall, per_class, per_slice = _Counter(), {}, {}
    predicted: dict[str, int] = {}
    for r in records:
        overall.add(r.kind, r.image_id)
        if r.kind in PREDICTION_KINDS:
            predicted[str(r.predicted)] = predicted.get(str(r.predicted), 0) + 1
        per_class.setdefault(r.cls, _Counter()).add(r.kind, r.image_id)
        for tag in _tags(slices.get(r.image_id) if slices else None):
            per_slice.setdefault(tag, _Counter()).add(r.kind, r.image_id)
    return BucketSummary(
        overall=overall.buckets(every_kind=True),
        per_class={c: per_class[c].buckets() for c in sorted(per_class)},
        per_slice={s: per_slice[s].buckets() for s in sorted(per_slice)},
        predicted=dict(sorted(predicted.items())),
    )
