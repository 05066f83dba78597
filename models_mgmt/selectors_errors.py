"""Reads of the stored error analysis: an evaluation's errors per kind x class
and per slice (split, tags) with the items behind each bucket, the items of
one bucket, and which errors a version fixed and introduced against another."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count

from annotate.selectors_loop import item_slices
from ml.error_diff import diff_versions
from ml.errors import ERROR_KINDS, ErrorRecord
from models_mgmt.models import Evaluation, EvaluationError, ModelVersion

KIND_NAMES = {
    "background": "false positive (background)",
    "missed": "false negative (missed)",
    "localization": "poor box (localisation)",
    "confusion": "class confusion",
    "duplicate": "duplicate",
    "both": "wrong class and poor box",
}
BUCKET_ITEM_IDS = 100  # item ids listed per bucket in the API
BUCKET_PAGE = 48  # items per page of one bucket
DISAGREEING = 24  # items listed where two versions disagree most


class BadBucket(ValueError):
    """A bucket filter that names no kind of error."""


@dataclass(frozen=True)
class Bucket:
    kind: str
    cls: str
    count: int
    items: int  # distinct items
    item_ids: tuple[int, ...] = ()  # the first BUCKET_ITEM_IDS, by item id


@dataclass(frozen=True)
class ClassRow:
    """One class: its errors per kind (ERROR_KINDS order), true positives and
    ground-truth shapes."""

    cls: str
    counts: tuple[int, ...]
    true_positive: int = 0
    shapes: int = 0

    @property
    def cells(self) -> list[tuple[str, int]]:
        return list(zip(ERROR_KINDS, self.counts, strict=True))


@dataclass(frozen=True)
class ErrorSummary:
    """The error analysis of one evaluation (status "done"), or why there is
    none ("none": made before error analysis or still running; "failed")."""

    evaluation: Evaluation | None
    status: str
    error: str = ""
    stats: dict = field(default_factory=dict)
    buckets: list[Bucket] = field(default_factory=list)  # per kind x class
    classes: list[ClassRow] = field(default_factory=list)
    totals: tuple[int, ...] = ()
    slices: list[ClassRow] = field(default_factory=list)  # cls = the slice
    slice_buckets: list[Bucket] = field(default_factory=list)  # cls = slice

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return [(k, KIND_NAMES[k]) for k in ERROR_KINDS]


def _status(evaluation: Evaluation | None) -> tuple[str, str]:
    stats = evaluation.error_stats if evaluation is not None else {}
    if "items" in stats:
        return "done", ""
    if "error" in stats:
        return "failed", str(stats["error"])
    return "none", ""


def _grouped(evaluation: Evaluation) -> list[tuple[int, str, str, int]]:
    """(item id, kind, class, n) of the evaluation's errors: one query."""
    return list(
        EvaluationError.objects.filter(evaluation=evaluation)
        .values_list("item_id", "kind", "cls")
        .annotate(n=Count("id"))
        .order_by("item_id", "kind", "cls")
    )


def _buckets(groups: Iterable[tuple[int, str, str, int]]) -> list[Bucket]:
    counts: dict[tuple[str, str], list] = {}
    for item_id, kind, key, n in groups:
        entry = counts.setdefault((kind, key), [0, []])
        entry[0] += n
        if not entry[1] or entry[1][-1] != item_id:
            entry[1].append(item_id)
    return [
        Bucket(kind, key, n, len(ids), tuple(ids[:BUCKET_ITEM_IDS]))
        for (kind, key), (n, ids) in sorted(
            counts.items(), key=lambda kv: (ERROR_KINDS.index(kv[0][0]), kv[0][1])
        )
    ]


def _table(buckets: list[Bucket], names: list[str]) -> list[tuple[str, tuple]]:
    by = {(b.cls, b.kind): b.count for b in buckets}
    return [(n, tuple(by.get((n, k), 0) for k in ERROR_KINDS)) for n in names]


def error_summary(*, evaluation: Evaluation | None, project) -> ErrorSummary:
    """The evaluation's errors per kind x class and per slice; three queries
    whatever the number of errors (one grouped read, the slices' two)."""
    status, error = _status(evaluation)
    if status != "done":
        return ErrorSummary(evaluation, status, error)
    stats = evaluation.error_stats
    groups = _grouped(evaluation)
    buckets = _buckets(groups)
    tp, shapes = stats.get("true_positive", {}), stats.get("shapes", {})
    names = list(dict.fromkeys([*(b.cls for b in buckets), *tp, *shapes]))
    names.sort()
    classes = [
        ClassRow(n, counts, tp.get(n, 0), shapes.get(n, 0))
        for n, counts in _table(buckets, names)
    ]
    totals = tuple(sum(c.counts[i] for c in classes) for i in range(len(ERROR_KINDS)))
    slices = item_slices(
        project=project,
        item_ids=EvaluationError.objects.filter(evaluation=evaluation).values(
            "item_id"
        ),
    )
    sliced = [
        (item_id, kind, s, n)
        for item_id, kind, _cls, n in groups
        for s in slices.get(item_id, ())
    ]
    sliced.sort()
    slice_buckets = _buckets(sliced)
    slice_names = sorted({b.cls for b in slice_buckets})
    return ErrorSummary(
        evaluation,
        status,
        stats=stats,
        buckets=buckets,
        classes=classes,
        totals=totals,
        slices=[ClassRow(n, c) for n, c in _table(slice_buckets, slice_names)],
        slice_buckets=slice_buckets,
    )


@dataclass(frozen=True)
class BucketItem:
    item_id: int
    records: list[EvaluationError]


@dataclass(frozen=True)
class BucketPage:
    kind: str
    cls: str
    slice: str
    count: int  # items in the bucket
    items: list[BucketItem]
    page: int
    pages: int


def _page_number(value, pages: int) -> int:
    text = str(value or "1")
    number = int(text) if text.isdigit() and len(text) < 9 else 1
    return min(max(number, 1), max(pages, 1))


def error_bucket_page(
    *, evaluation: Evaluation, project, kind="", cls="", slice="", page=1
) -> BucketPage:
    """The items of one bucket (kind, class and slice, each optional), most
    errors first (ties: item id), BUCKET_PAGE per page, with their records.
    Raises BadBucket for a kind that is not one of ERROR_KINDS. Four queries."""
    if kind and kind not in ERROR_KINDS:
        raise BadBucket(f"kind must be one of {', '.join(ERROR_KINDS)}")
    rows = EvaluationError.objects.filter(evaluation=evaluation)
    if kind:
        rows = rows.filter(kind=kind)
    if cls:
        rows = rows.filter(cls=cls)
    counts = list(
        rows.values_list("item_id").annotate(n=Count("id")).order_by("-n", "item_id")
    )
    slices = item_slices(project=project, item_ids=rows.values("item_id"))
    ids = [i for i, _ in counts if i in slices and (not slice or slice in slices[i])]
    pages = max(1, -(-len(ids) // BUCKET_PAGE))
    number = _page_number(page, pages)
    shown = ids[(number - 1) * BUCKET_PAGE : number * BUCKET_PAGE]
    records: dict[int, list] = {i: [] for i in shown}
    for r in rows.filter(item_id__in=shown).order_by("item_id", "kind", "id"):
        records[r.item_id].append(r)
    return BucketPage(
        kind,
        cls,
        slice,
        len(ids),
        [BucketItem(i, records[i]) for i in shown],
        number,
        pages,
    )


def _record(row: tuple) -> ErrorRecord:
    item_id, kind, gt, pred, label, predicted, iou, conf, bbox = row
    return ErrorRecord(
        item_id,
        kind,
        gt,
        pred,
        label or None,
        predicted or None,
        iou,
        conf,
        tuple(bbox) if bbox else None,
    )


RECORD_FIELDS = (
    "item_id",
    "kind",
    "gt_index",
    "pred_index",
    "label",
    "predicted",
    "iou",
    "confidence",
    "bbox",
)


@dataclass(frozen=True)
class Disagreement:
    item_id: int
    fixed: int
    introduced: int

    @property
    def total(self) -> int:
        return self.fixed + self.introduced


@dataclass(frozen=True)
class ErrorComparison:
    """Which errors `b` fixed and introduced against `a`, on the items both
    evaluations scored. ``note`` says why there is none, or a caveat."""

    eval_a: Evaluation | None
    eval_b: Evaluation | None
    note: str = ""
    items: int = 0
    fixed: tuple[int, ...] = ()  # per kind (ERROR_KINDS)
    introduced: tuple[int, ...] = ()
    kept: tuple[int, ...] = ()
    per_class: list["DiffRow"] = field(default_factory=list)
    per_slice: list["DiffRow"] = field(default_factory=list)
    disagreeing: list[Disagreement] = field(default_factory=list)

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return [(k, KIND_NAMES[k]) for k in ERROR_KINDS]


def _analysed(version: ModelVersion, limit: int):
    return list(
        Evaluation.objects.filter(
            model_version=version, error_stats__has_key="items"
        ).only("id", "test_item_ids", "stale", "error_stats", "created_at")[:limit]
    )


def _pair(a: ModelVersion, b: ModelVersion):
    """b's newest analysed evaluation, and a's on the same items when it has
    one (a comparison run evaluates both on them), else a's newest."""
    newest_b = _analysed(b, 1)
    if not newest_b:
        return None, None
    eval_b = newest_b[0]
    candidates = _analysed(a, 20)
    same = set(eval_b.test_item_ids)
    for e in candidates:
        if set(e.test_item_ids) == same:
            return e, eval_b
    return (candidates[0] if candidates else None), eval_b


def _per(records, key) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for r in records:
        for k in key(r):
            out.setdefault(k, [0] * len(ERROR_KINDS))[ERROR_KINDS.index(r.kind)] += 1
    return out


@dataclass(frozen=True)
class DiffRow:
    """One class or slice: errors fixed and introduced per kind."""

    name: str
    fixed: tuple[int, ...]
    introduced: tuple[int, ...]

    @property
    def cells(self) -> list[tuple[int, int]]:
        return list(zip(self.fixed, self.introduced, strict=True))


def _rows_of(fixed, introduced) -> list[DiffRow]:
    zero = [0] * len(ERROR_KINDS)
    return [
        DiffRow(n, tuple(fixed.get(n, zero)), tuple(introduced.get(n, zero)))
        for n in sorted(set(fixed) | set(introduced))
    ]


def errors_compare(*, project, a: ModelVersion, b: ModelVersion) -> ErrorComparison:
    """ml.error_diff.diff_versions of a's and b's stored errors on the items
    both evaluations scored: counts per kind, per class and per slice, and the
    DISAGREEING items with the most fixed + introduced errors (ties: item id).
    Five queries whatever the number of errors."""
    eval_a, eval_b = _pair(a, b)
    if eval_a is None or eval_b is None:
        missing = ", ".join(v.name for v, e in ((a, eval_a), (b, eval_b)) if e is None)
        return ErrorComparison(eval_a, eval_b, f"no error analysis of {missing}")
    common = set(eval_a.test_item_ids) & set(eval_b.test_item_ids)
    notes = []
    if set(eval_a.test_item_ids) != set(eval_b.test_item_ids):
        notes.append(f"on the {len(common)} test items both evaluations scored")
    if eval_a.stale or eval_b.stale:
        notes.append("an evaluation is stale: test labels changed since it ran")
    old, new = [], []
    rows = EvaluationError.objects.filter(evaluation_id__in=[eval_a.pk, eval_b.pk])
    for evaluation_id, *row in rows.values_list(
        "evaluation_id", *RECORD_FIELDS
    ).order_by("evaluation_id", "item_id", "id"):
        if row[0] in common:
            (old if evaluation_id == eval_a.pk else new).append(_record(tuple(row)))
    diff = diff_versions(old, new)
    counts = diff.counts()
    slices = item_slices(
        project=project, item_ids={r.image_id for r in diff.fixed + diff.introduced}
    )

    def cls(r):
        return (r.cls,)

    def slice_of(r):
        return slices.get(r.image_id, ())

    per_item: dict[int, list[int]] = {}
    for r in diff.fixed:
        per_item.setdefault(r.image_id, [0, 0])[0] += 1
    for r in diff.introduced:
        per_item.setdefault(r.image_id, [0, 0])[1] += 1
    ranked = sorted(per_item.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    return ErrorComparison(
        eval_a,
        eval_b,
        "; ".join(notes),
        len(common),
        tuple(counts["fixed"][k] for k in ERROR_KINDS),
        tuple(counts["introduced"][k] for k in ERROR_KINDS),
        tuple(counts["kept"][k] for k in ERROR_KINDS),
        _rows_of(_per(diff.fixed, cls), _per(diff.introduced, cls)),
        _rows_of(_per(diff.fixed, slice_of), _per(diff.introduced, slice_of)),
        [Disagreement(i, f, n) for i, (f, n) in ranked[:DISAGREEING]],
    )
