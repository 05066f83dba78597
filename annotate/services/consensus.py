"""Consensus: an item chosen by the project's share is labelled by two annotators
before review; the second submit stores the agreement of the two versions."""

from annotate.models import Item, ItemStatus, Pipeline, Task, TaskStatus
from ml.consensus import agreement, consensus_selected


def consensus_state(*, item_id: int) -> Item:
    """The item's consensus fields (its first version's task id, its agreement),
    read once for consensus_wants_second and consensus_agreement."""
    return Item.objects.only("pk", "consensus_first_id", "agreement").get(pk=item_id)


def consensus_wants_second(
    *, task: Task, state: Item | None = None, pipeline: Pipeline | None = None
) -> bool:
    """Whether the submit of label `task` (already marked submitted) is the first
    of a consensus pair: the item is chosen (ml.consensus_selected with the
    project's split seed and consensus_share) and no round has run on it yet.
    Then the item goes back to the label queue with `task` as its first version
    (its shapes stay on the task's draft; the item's annotations stay as they
    were, so the second annotator starts from the model's pre-annotations).

    One conditional UPDATE (WHERE status = labeling AND no first version AND no
    agreement) decides: True when it changed the row. Call inside the submit's
    transaction. `state`: consensus_state of the item, if the caller read it;
    `pipeline`: the project's Pipeline, if the caller read it (None: read here)."""
    item = state if state is not None else consensus_state(item_id=task.item_id)
    if item.consensus_first_id is not None or item.agreement is not None:
        return False
    if pipeline is None:
        pipeline = Pipeline.objects.filter(project_id=task.project_id).first()
    if pipeline is None or not consensus_selected(
        item.pk, pipeline.split_seed, pipeline.consensus_share
    ):
        return False
    return bool(
        Item.objects.filter(
            pk=item.pk,
            status=ItemStatus.LABELING,
            consensus_first__isnull=True,
            agreement__isnull=True,
        ).update(
            status=ItemStatus.UNLABELED,
            consensus_first=task,
            # Open to every other annotator: an assignment to the first one or
            # a rejection's grace for them would leave nobody to take it.
            assigned_to=None,
            rejected_at=None,
        )
    )


def consensus_agreement(
    *, task: Task, shapes: list[dict], state: Item | None = None
) -> float | None:
    """The agreement of `shapes` (submitted with label `task`) with the item's
    first consensus version when `task` is the second one of another annotator:
    stored on both tasks (the Work page's per-annotator figure). None when the
    item has no open round. The caller stores it on the item. `state`:
    consensus_state of the item as the submit read it (no query then for an
    item without a round)."""
    if state is None:
        item = Item.objects.select_related("consensus_first").get(pk=task.item_id)
    else:
        item = state
        if item.consensus_first_id is None:
            return None
    first = item.consensus_first
    if (
        first is None
        or item.agreement is not None
        or first.pk == task.pk
        or first.assignee_id == task.assignee_id
        or first.status != TaskStatus.SUBMITTED
    ):
        return None
    value = agreement(first.draft or [], shapes)
    Task.objects.filter(pk__in=[first.pk, task.pk]).update(agreement=value)
    return value


def consensus_blocks(*, item_id: int, user) -> bool:
    """Whether `user` gave the first version of the open consensus round on the
    item (they may not be its second annotator)."""
    return Item.objects.filter(
        pk=item_id, consensus_first__assignee=user, agreement__isnull=True
    ).exists()


def consensus_round_reset(*, item_ids) -> int:
    """Close the finished consensus round of these items as they go back to
    labelling (rejected, reopened, sent back): their agreement and first version
    are cleared, so the next pair of submits is compared afresh (the old tasks
    keep their agreement, the Work page's history). A round still open (a first
    version in, no agreement yet) is left as it is. Returns the items changed.
    Call inside the caller's transaction."""
    return Item.objects.filter(pk__in=list(item_ids), agreement__isnull=False).update(
        agreement=None, consensus_first=None
    )
