"""Reads that the model loop (models_mgmt) makes of labelling data: ground truth
as ml/ types, the frozen splits, items waiting to be scored, their scores."""

from django.db.models import Count, QuerySet

from annotate.explain import pick_group
from annotate.models import (
    GROUND_TRUTH_ROWS,
    Annotation,
    Item,
    ItemStatus,
    ItemTag,
    Project,
)
from ml.types import BoxShape, GroundTruthImage, PolygonShape


def item_ids_in_split(*, project: Project, split: str) -> list[int]:
    """Ids of the project's ground-truth items in `split`, in id order."""
    return list(
        Item.objects.filter(project=project, status=ItemStatus.DONE, split=split)
        .order_by("id")
        .values_list("pk", flat=True)
    )


def _approved_since(project: Project, since):
    qs = Item.objects.filter(project=project, status=ItemStatus.DONE)
    if since is not None:
        qs = qs.filter(approved_at__gt=since)
    return qs


def item_ids_approved_since(*, project: Project, since) -> list[int]:
    """Ids of ground-truth items approved after `since` (all of them when None)."""
    return list(_approved_since(project, since).values_list("pk", flat=True))


def items_approved_since_count(*, project: Project, since, at_most: int) -> int:
    """How many ground-truth items were approved after `since` (all when None),
    counted up to `at_most`: a trigger asks whether N are there, on every
    approval, and the COUNT of item_approved_idx's range stops at N instead
    of walking all the ground truth (a project never trained counts from the
    start, #15)."""
    if at_most <= 0:
        return 0
    return _approved_since(project, since).order_by()[:at_most].count()


def ground_truth_images(
    *, item_ids: list[int], split_of: dict[int, str]
) -> list[GroundTruthImage]:
    """GroundTruthImage for each item id (annotations as stored), in id order."""
    return list(ground_truth_by_item(item_ids=item_ids, split_of=split_of).values())


def ground_truth_by_item(
    *, item_ids: list[int], split_of: dict[int, str]
) -> dict[int, GroundTruthImage]:
    """{item id: GroundTruthImage} of the items that exist, in id order; the
    shapes (GROUND_TRUTH_ROWS: human and accepted model ones, not predictions
    imported onto the item) in annotation id order (the order error records
    index)."""
    shapes: dict[int, list] = {i: [] for i in item_ids}
    rows = Annotation.objects.filter(GROUND_TRUTH_ROWS, item_id__in=item_ids)
    for ann in rows.order_by("id"):
        geo = ann.geometry
        if ann.kind == "box":
            shapes[ann.item_id].append(BoxShape(ann.label, tuple(geo["bbox"])))
        else:
            points = tuple(tuple(p) for p in geo["points"])
            shapes[ann.item_id].append(PolygonShape(ann.label, points))
    return {
        item.pk: GroundTruthImage(
            path=item.file.path,
            width=item.width,
            height=item.height,
            shapes=tuple(shapes[item.pk]),
            split=split_of[item.pk],
        )
        for item in Item.objects.filter(pk__in=item_ids).order_by("id")
    }


def item_pick_groups(*, item_ids) -> dict[int, str]:
    """{item id: how it was chosen} for the items among `item_ids`
    (annotate.explain.pick_group: "random", "strategy" or "other"), one query."""
    rows = Item.objects.filter(pk__in=list(item_ids)).values_list(
        "pk", "priority_reason"
    )
    return {pk: pick_group(reason) for pk, reason in rows.iterator(chunk_size=2000)}


def item_slices(*, project: Project, item_ids) -> dict[int, tuple[str, ...]]:
    """{item id: its slices} for the project's items among `item_ids` (ids,
    or a query of them: a subquery, never a long list): its split
    ("split:test") and each of its tags ("tag:<name>"), two queries."""
    ids = item_ids if isinstance(item_ids, QuerySet) else list(item_ids)
    out: dict[int, list[str]] = {
        pk: [f"split:{split}"] if split else []
        for pk, split in Item.objects.filter(project=project, pk__in=ids).values_list(
            "pk", "split"
        )
    }
    tags = ItemTag.objects.filter(project=project, item_id__in=ids).order_by("name")
    for item_id, name in tags.values_list("item_id", "name"):
        if item_id in out:
            out[item_id].append(f"tag:{name}")
    return {pk: tuple(v) for pk, v in out.items()}


def items_pending_scoring(
    *, project: Project, model_version_id: int | None
) -> QuerySet[Item]:
    """Unlabelled items not yet scored by `model_version_id`; before any model
    (None), those without an embedding. In id order, without the stored scores
    (the embedding, reasons and components: JSON that scoring replaces and
    would only decode)."""
    qs = Item.objects.filter(project=project, status=ItemStatus.UNLABELED).defer(
        "embedding", "priority_reason", "score_components"
    )
    if model_version_id is None:
        qs = qs.filter(embedding__isnull=True)
    else:
        qs = qs.exclude(scored_by=model_version_id)
    return qs.order_by("id")


def item_scores_unlabeled(
    *, project: Project
) -> list[tuple[int, float | None, list, dict]]:
    """(id, uncertainty, embedding, score components) of every unlabelled item:
    the candidates that the selection strategy orders."""
    return list(
        Item.objects.filter(project=project, status=ItemStatus.UNLABELED).values_list(
            "pk", "uncertainty", "embedding", "score_components"
        )
    )


def label_counts_ground_truth(*, project: Project) -> dict[str, int]:
    """Shapes per label on the project's ground truth (for rare-class weights)."""
    rows = (
        Annotation.objects.filter(item__project=project, item__status=ItemStatus.DONE)
        .values("label")
        .annotate(n=Count("id"))
    )
    return {row["label"]: row["n"] for row in rows}


# Ground-truth items whose embeddings diversity compares with (its reference
# set), and that scoring embeds with each new model: the newest by id.
REFERENCE_LIMIT = 5000


def _in_space(qs: QuerySet[Item], model_version_id: int | None) -> QuerySet[Item]:
    """Items whose embedding is in the space of `model_version_id`: its
    feature embeddings, or the pixel embeddings (scored_by None) before any
    model."""
    if model_version_id is None:
        return qs.filter(scored_by__isnull=True)
    return qs.filter(scored_by=model_version_id)


def item_embeddings_done(
    *, project: Project, model_version_id: int | None, limit: int = REFERENCE_LIMIT
) -> list[list]:
    """Embeddings of up to `limit` ground-truth items (diversity's reference
    set), the newest by id, only those in the space of `model_version_id`
    (the best model's; None before any: pixel embeddings): an embedding left
    from the cold start or an older model is not comparable."""
    qs = Item.objects.filter(
        project=project, status=ItemStatus.DONE, embedding__isnull=False
    )
    return list(
        _in_space(qs, model_version_id)
        .order_by("-id")
        .values_list("embedding", flat=True)[:limit]
    )


def ground_truth_pending_embedding(
    *, project: Project, model_version_id: int | None, limit: int = REFERENCE_LIMIT
) -> QuerySet[Item]:
    """Among the newest `limit` ground-truth items by id (the window that
    diversity reads as its reference), those not yet embedded by
    `model_version_id`, in id order, without their stored scores; before any
    model (None), those with no embedding at all (imported as done, never
    scored while unlabelled). Scoring embeds them after the unlabelled pool,
    so that every comparison of embeddings stays in one model's space."""
    window = (
        Item.objects.filter(project=project, status=ItemStatus.DONE)
        .order_by("-id")
        .values("pk")[:limit]
    )
    qs = Item.objects.filter(pk__in=window)
    if model_version_id is None:
        qs = qs.filter(embedding__isnull=True)
    else:
        qs = qs.exclude(scored_by=model_version_id)
    return qs.defer("embedding", "priority_reason", "score_components").order_by("id")


def ground_truth_count(*, project: Project) -> int:
    """How many items of `project` are ground truth (done)."""
    return Item.objects.filter(project=project, status=ItemStatus.DONE).count()


def train_items_for_reference(*, project: Project, limit: int) -> list[Item]:
    """The first `limit` train items by id (only their files): the training set
    that OOD scores measure against."""
    return list(
        Item.objects.filter(project=project, status=ItemStatus.DONE, split="train")
        .order_by("id")
        .only("pk", "file")[:limit]
    )
