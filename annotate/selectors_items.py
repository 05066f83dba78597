"""The item browser's list: a project's items with its filters and orderings
(annotate.views_items, the items API)."""

from django.db.models import QuerySet

from annotate.models import (
    Annotation,
    FlagStatus,
    Item,
    ItemStatus,
    LabelErrorFlag,
    Membership,
    Project,
    Split,
    Task,
)
from annotate.selectors import pipeline_get
from annotate.selectors_work import item_filter_work

# The item browser's "model disagreement" filter: value -> what it keeps.
DISAGREEMENT_THRESHOLD = 0.5  # ml.scores.disagreement, in [0, 1]
DISAGREEMENTS = {
    "labels": "the model disagrees with the labels: an open possible-label-error "
    "flag (a model version's predictions against the approved shapes)",
    "versions": "two model versions disagree: the best and the previous version's "
    f"committee disagreement at least {DISAGREEMENT_THRESHOLD} (of 1)",
}

ITEM_ORDERINGS = {
    "-priority": ("-priority", "id"),
    "priority": ("priority", "id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


def item_list(
    *,
    project: Project,
    status: str | None = None,
    split: str | None = None,
    ordering: str = "-priority",
    held_by=None,
    name: str = "",
    label: str = "",
    annotator=None,
    assignee=None,
    ood: str = "",
    disagree: str = "",
    **work,
) -> QuerySet[Item]:
    """Items of a project with optional filters; unknown values raise ValueError.
    `work`: the tag and work filters of selectors_work.item_filter_work.
    `held_by`: only the items that user holds or held a task on; `name`: file
    names containing it; `label`: items with a shape of that label; `annotator`:
    items last submitted by that user id; `assignee`: items assigned to that user
    id (the last two must be members); `ood` "1": out-of-distribution items;
    `disagree`: where the model disagrees (DISAGREEMENTS)."""
    qs = Item.objects.filter(project=project)
    if name:
        qs = qs.filter(original_name__icontains=name[:255])
    if label:
        if label not in project.labels:
            raise ValueError(f"label must be one of {', '.join(project.labels)}")
        # A subquery, not a join (see held_by below).
        shapes = Annotation.objects.filter(item__project=project, label=label)
        qs = qs.filter(pk__in=shapes.values("item_id"))
    for field, user_id in (
        ("last_annotator_id", annotator),
        ("assigned_to_id", assignee),
    ):
        if user_id in (None, ""):
            continue
        try:
            user_id = int(user_id)
        except (TypeError, ValueError, OverflowError):
            raise ValueError("annotator must be a member of this project") from None
        if not Membership.objects.filter(project=project, user_id=user_id).exists():
            raise ValueError("annotator must be a member of this project")
        qs = qs.filter(**{field: user_id})
    if ood not in ("", "1"):
        raise ValueError("ood must be 1 (only out-of-distribution items) or empty")
    if ood:
        threshold = pipeline_get(project=project).ood_threshold
        qs = qs.filter(ood__gt=threshold)  # Item.ood: the score's own column
    if disagree and disagree not in DISAGREEMENTS:
        raise ValueError(f"disagree must be one of {', '.join(DISAGREEMENTS)}")
    if disagree == "labels":
        # A subquery on the flags' (project, status, -score) index.
        flags = LabelErrorFlag.objects.filter(project=project, status=FlagStatus.OPEN)
        qs = qs.filter(pk__in=flags.values("item_id"))
    elif disagree == "versions":
        qs = qs.filter(score_components__disagreement__gte=DISAGREEMENT_THRESHOLD)
    if held_by is not None:
        # A subquery, not a join: the join repeats an item per task and so needs
        # DISTINCT, which makes the page's COUNT walk every matching item.
        # (Hidden ground-truth checks stay hidden: annotate.services.checks.)
        tasks = Task.objects.filter(project=project, assignee=held_by, is_check=False)
        qs = qs.filter(pk__in=tasks.values("item_id"))
    if status:
        if status not in ItemStatus.values:
            raise ValueError(f"status must be one of {', '.join(ItemStatus.values)}")
        qs = qs.filter(status=status)
    if split:
        if split == "none":
            qs = qs.filter(split__isnull=True)
        elif split not in Split.values:
            raise ValueError(f"split must be one of {', '.join(Split.values)}, none")
        else:
            # Only ground truth carries a split (item_split_only_when_done): the
            # status lets the page walk item_queue_idx's done rows in priority
            # order, not every item's (#15: 59 ms of CPU at 100k items).
            qs = qs.filter(split=split)
            qs = qs if status else qs.filter(status=ItemStatus.DONE)
    qs = item_filter_work(qs, project=project, **work) if work else qs
    if ordering not in ITEM_ORDERINGS:
        raise ValueError(f"ordering must be one of {', '.join(ITEM_ORDERINGS)}")
    return qs.order_by(*ITEM_ORDERINGS[ordering]).defer("embedding")


# Orderings an index gives only with their ties sorted (SQLite reads
# item_priority_idx and item_queue_idx, "-priority, id", backwards as
# "priority, -id"): a page of them is cut from the ids alone (see PageRows).
TIES_SORTED = ("priority",)


class PageRows:
    """What a paginator slices for an item_list queryset in an ordering of
    TIES_SORTED: a slice is the rows whose ids are that slice of the ordered
    ids (one query: the ids' sort reads the index alone; the rows' columns
    are read for the page only). At 100k items on SQLite the first page of
    `ordering=priority` took 86 ms of CPU sorting every tied row whole, this
    17 (#15). Same rows, same order, same query count."""

    ordered = True

    def __init__(self, qs: QuerySet[Item]):
        self.qs = qs

    def count(self) -> int:
        return self.qs.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self.qs[key]
        return list(self.qs.filter(pk__in=self.qs.values("pk")[key]))


def item_list_pages(qs: QuerySet[Item], *, ordering: str):
    """`qs` (item_list's, in `ordering`) as a paginator should slice it."""
    return PageRows(qs) if ordering in TIES_SORTED else qs
