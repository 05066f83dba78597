"""Possible label errors: where a model's predictions disagree with approved labels.

Feed it a model's predictions on approved images it was **not trained on**
(held out, or out-of-fold: :func:`folds`); on its own training images a model
repeats the labels' mistakes. Per image, with ``confident`` predictions being
those with confidence >= ``LabelErrorParams.confident``:

1. Confident predictions are matched to labels of their class greedily by
   descending confidence at IoU >= ``match_iou`` (as in ml.errors). A matched
   pair with IoU < ``shifted_max_iou`` is a **shifted_box** (a loose or
   misplaced box): score ``conf * (1 - IoU)``.
2. Each unmatched label gets at most one explanation, best score first, each
   prediction explaining at most one label:
   **wrong_class**: an unmatched confident prediction of another class at
   IoU >= ``match_iou`` that the model prefers to the label's class here:
   score ``conf * (1 - support) * IoU``, where ``support`` is the model's
   score for the label's class at the label (the highest class score for
   that class among the predictions at IoU >= ``match_iou``, from each
   box's class-score vector); **shifted_box**: an unmatched confident
   prediction of the label's class at IoU in [``low_iou``, ``match_iou``):
   score ``conf * (1 - IoU)``.
3. A label still unexplained whose ``support`` is below ``confident`` is a
   **spurious_label** (nothing there, or the model does not see it) when the
   model is confident elsewhere: score ``(1 - support) * elsewhere``, where
   ``elsewhere`` is the highest confidence among the image's predictions that
   overlap the label by less than ``low_iou``, or, in an image without such
   predictions, ``reference``: the median support of the labels matched in
   step 1 over all the images ranked (the model's usual confidence on
   labelled objects; ``confident`` when there are none).
4. A confident prediction used by none of the above and overlapping every
   label by less than ``match_iou`` is a **missing_label**: score
   ``conf * (1 - highest IoU with any label)``.

Every score is in [0, 1]: the product of the model's confidence that
something is there and how badly the label and the prediction agree. IoU is
box IoU; polygons are judged by their bounding boxes. Candidates are ranked
across images by score (ties: image order, kind, shape, prediction index).
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from ml.geometry import box_iou
from ml.types import BBox, Detection, Shape

MISSING_LABEL = "missing_label"
SPURIOUS_LABEL = "spurious_label"
WRONG_CLASS = "wrong_class"
SHIFTED_BOX = "shifted_box"
KINDS: tuple[str, ...] = (WRONG_CLASS, MISSING_LABEL, SHIFTED_BOX, SPURIOUS_LABEL)


@dataclass(frozen=True)
class LabelErrorParams:
    """Thresholds (documented defaults).

    ``match_iou`` 0.5: a label and a prediction on the same object (COCO).
    ``low_iou`` 0.2: below it they are about different objects. A box moved
    by half its size along one axis overlaps its object by IoU 1/3, along a
    diagonal by about 0.26, so 0.3 would miss half of such shifts.
    ``shifted_max_iou`` 0.7: a same-class pair below it is badly placed.
    ``confident`` 0.5: a prediction the model stands behind.
    """

    match_iou: float = 0.5
    low_iou: float = 0.2
    shifted_max_iou: float = 0.7
    confident: float = 0.5

    def __post_init__(self) -> None:
        for name in ("match_iou", "low_iou", "shifted_max_iou", "confident"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0.0 <= v <= 1.0):
                raise ValueError(f"{name} must be in [0, 1]")
        if not self.low_iou <= self.match_iou <= self.shifted_max_iou:
            raise ValueError("need low_iou <= match_iou <= shifted_max_iou")
        if self.match_iou == 0.0:
            raise ValueError("match_iou must be above 0")


@dataclass(frozen=True)
class LabelErrorCandidate:
    """One possible label error. ``gt_index`` indexes the image's labels and
    ``pred_index`` its detections (None where not involved); ``gt_bbox`` /
    ``pred_bbox`` are their boxes, ``label`` / ``predicted`` their classes.
    ``confidence`` is the prediction's (for a spurious label: ``elsewhere``).
    """

    image_id: Hashable
    kind: str
    score: float
    reason: str
    gt_index: int | None
    pred_index: int | None
    label: str | None
    predicted: str | None
    iou: float
    confidence: float
    gt_bbox: BBox | None = None
    pred_bbox: BBox | None = None


def _unit(v: float) -> float:
    return min(1.0, max(0.0, float(v))) if math.isfinite(v) else 0.0


def class_score(det: Detection, label: str, class_names: Sequence[str] | None) -> float:
    """The model's score for ``label`` in this box: its entry in the
    class-score vector when ``class_names`` places it there, else the
    confidence when the box has that label, else 0."""
    if class_names is not None and label in class_names:
        i = list(class_names).index(label)
        if i < len(det.class_scores):
            return _unit(det.class_scores[i])
    return _unit(det.confidence) if det.label == label else 0.0


@dataclass
class _Image:
    image_id: Hashable
    shapes: Sequence[Shape]
    dets: Sequence[Detection]
    iou: list[list[float]]  # [prediction][label]
    class_names: Sequence[str] | None
    p: LabelErrorParams

    def support(self, g: int) -> float:
        label = self.shapes[g].label
        return max(
            (
                class_score(d, label, self.class_names)
                for i, d in enumerate(self.dets)
                if self.iou[i][g] >= self.p.match_iou
            ),
            default=0.0,
        )

    def candidate(self, kind, score, reason, g, i, v, conf) -> LabelErrorCandidate:
        shape = self.shapes[g] if g is not None else None
        det = self.dets[i] if i is not None else None
        return LabelErrorCandidate(
            image_id=self.image_id,
            kind=kind,
            score=_unit(score),
            reason=reason,
            gt_index=g,
            pred_index=i,
            label=shape.label if shape else None,
            predicted=det.label if det else None,
            iou=float(v),
            confidence=_unit(conf),
            gt_bbox=shape.bounds() if shape else None,
            pred_bbox=det.bbox if det else None,
        )


def _match(img: _Image, confident: list[int]) -> dict[int, int]:
    """Class-aware greedy matching of confident predictions: label -> pred."""
    matched: dict[int, int] = {}
    for i in confident:
        best = None
        for g, shape in enumerate(img.shapes):
            v = img.iou[i][g]
            if shape.label != img.dets[i].label or g in matched:
                continue
            if v >= img.p.match_iou and (best is None or v > img.iou[i][best]):
                best = g
        if best is not None:
            matched[best] = i
    return matched


def image_candidates(
    image_id: Hashable,
    shapes: Sequence[Shape],
    detections: Sequence[Detection],
    *,
    class_names: Sequence[str] | None = None,
    params: LabelErrorParams | None = None,
    reference: float | None = None,
) -> tuple[list[LabelErrorCandidate], list[float]]:
    """The candidates of one image (module docstring), unsorted, and the
    supports of its labels matched in step 1 (for the reference)."""
    p = params or LabelErrorParams()
    ref = p.confident if reference is None else _unit(reference)
    img = _Image(
        image_id,
        shapes,
        detections,
        [[box_iou(d.bbox, s.bounds()) for s in shapes] for d in detections],
        class_names,
        p,
    )
    confident = sorted(
        (i for i, d in enumerate(detections) if _unit(d.confidence) >= p.confident),
        key=lambda i: (-detections[i].confidence, i),
    )
    out: list[LabelErrorCandidate] = []
    matched = _match(img, confident)
    supports = [img.support(g) for g in matched]
    for g, i in matched.items():
        v, conf = img.iou[i][g], _unit(detections[i].confidence)
        if v < p.shifted_max_iou:
            out.append(_shifted(img, g, i, v, conf, matched=True))
    used = set(matched.values())
    explained = _explain_unmatched(img, confident, matched, used, out)
    for g in range(len(shapes)):
        if g in matched or g in explained:
            continue
        support = img.support(g)
        if support >= p.confident:
            continue
        away = [
            _unit(d.confidence)
            for i, d in enumerate(detections)
            if img.iou[i][g] < p.low_iou
        ]
        elsewhere = max(away) if away else ref
        where = "elsewhere in the image" if away else "on labelled objects"
        reason = (
            f"labelled {shapes[g].label}, but the model gives it "
            f"{support:.2f} here while it is {elsewhere:.2f} confident {where}"
        )
        score = (1 - support) * elsewhere
        out.append(
            img.candidate(SPURIOUS_LABEL, score, reason, g, None, 0.0, elsewhere)
        )
    for i in confident:
        if i in used:
            continue
        v = max((img.iou[i][g] for g in range(len(shapes))), default=0.0)
        if v >= p.match_iou:
            continue
        d = detections[i]
        reason = (
            f"no label where the model sees a {d.label} ({d.confidence:.2f}); "
            f"the nearest label overlaps it by IoU {v:.2f}"
        )
        conf = _unit(d.confidence)
        out.append(
            img.candidate(MISSING_LABEL, conf * (1 - v), reason, None, i, v, conf)
        )
    return out, supports


def _shifted(img: _Image, g, i, v, conf, *, matched: bool) -> LabelErrorCandidate:
    label = img.shapes[g].label
    how = "matches it loosely" if matched else "is off"
    reason = (
        f"labelled {label}; the model's {label} box ({conf:.2f}) {how}: "
        f"IoU {v:.2f}, the box may be misplaced"
    )
    return img.candidate(SHIFTED_BOX, conf * (1 - v), reason, g, i, v, conf)


def _explain_unmatched(
    img: _Image,
    confident: list[int],
    matched: dict[int, int],
    used: set[int],
    out: list[LabelErrorCandidate],
) -> set[int]:
    """Step 2: wrong classes and shifted boxes for unmatched labels."""
    p = img.p
    options = []
    for g, shape in enumerate(img.shapes):
        if g in matched:
            continue
        support = img.support(g)
        for i in confident:
            if i in used:
                continue
            d, v = img.dets[i], img.iou[i][g]
            conf = _unit(d.confidence)
            if d.label != shape.label and v >= p.match_iou and conf > support:
                options.append((conf * (1 - support) * v, 0, g, i, support))
            elif d.label == shape.label and p.low_iou <= v < p.match_iou and v > 0:
                options.append((conf * (1 - v), 1, g, i, support))
    options.sort(key=lambda o: (-o[0], o[1], o[2], o[3]))
    explained: set[int] = set()
    for score, kind, g, i, support in options:
        if g in explained or i in used:
            continue
        explained.add(g)
        used.add(i)
        v, d = img.iou[i][g], img.dets[i]
        conf = _unit(d.confidence)
        if kind == 1:
            out.append(_shifted(img, g, i, v, conf, matched=False))
            continue
        label = img.shapes[g].label
        reason = (
            f"labelled {label}, but the model sees a {d.label} here "
            f"({conf:.2f}, IoU {v:.2f}) and gives {label} {support:.2f}"
        )
        out.append(img.candidate(WRONG_CLASS, score, reason, g, i, v, conf))
    return explained


def rank_label_errors(
    items: Iterable[tuple[Hashable, Sequence[Shape], Sequence[Detection]]],
    *,
    class_names: Sequence[str] | None = None,
    params: LabelErrorParams | None = None,
) -> list[LabelErrorCandidate]:
    """Every candidate of every ``(image_id, labels, detections)``, best first.

    ``class_names`` (the model's classes, in class-id order) lets the class-
    score vectors say how much the model believes a label's class; without
    it only each box's own label and confidence are used. Raises ValueError
    for bad params (see LabelErrorParams).
    """
    items = list(items)
    supports: list[float] = []
    for image_id, shapes, dets in items:
        supports += image_candidates(
            image_id, shapes, dets, class_names=class_names, params=params
        )[1]
    reference = statistics.median(supports) if supports else None
    out: list[tuple[int, LabelErrorCandidate]] = []
    for n, (image_id, shapes, dets) in enumerate(items):
        found, _ = image_candidates(
            image_id,
            shapes,
            dets,
            class_names=class_names,
            params=params,
            reference=reference,
        )
        out += [(n, c) for c in found]

    def key(item: tuple[int, LabelErrorCandidate]) -> tuple:
        n, c = item
        return (
            -c.score,
            n,
            KINDS.index(c.kind),
            -1 if c.gt_index is None else c.gt_index,
            -1 if c.pred_index is None else c.pred_index,
        )

    return [c for _, c in sorted(out, key=key)]


def folds(ids: Sequence[Hashable], k: int, seed: int = 0) -> list[list[Hashable]]:
    """``ids`` dealt into ``k`` folds of (nearly) equal size for out-of-fold
    scoring: train on all folds but one, predict that one. Seeded: the folds
    depend on the set of ids and the seed, not on the input order. Raises
    ValueError when k < 2 or ids repeat."""
    if k < 2:
        raise ValueError("k must be at least 2")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique")

    def h(x: Hashable) -> str:
        return hashlib.sha256(f"{seed}:{x!r}".encode()).hexdigest()

    ordered = sorted(ids, key=h)
    return [ordered[f::k] for f in range(k)]
