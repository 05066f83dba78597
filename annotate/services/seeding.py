"""Bulk rows for `manage.py seed_large`: annotate's side of a large project as
months of work leave it (items, shapes, claims, review tasks, approval events,
members), written with bulk_create in batches: 100,000 items would take an hour
through the per-row services. Only for a project seed_large has just created,
in the command's transaction.
"""

import hashlib
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alweb.roles import Role
from annotate.models import (
    Annotation,
    AnnotationSource,
    Event,
    Item,
    ItemStatus,
    Membership,
    Split,
    Task,
    TaskKind,
    TaskStatus,
)

# Shares of the items (the rest is unlabelled); labelling is one item per
# annotator (each holds one claim), two review items are held by reviewers.
DONE_SHARE = 0.12
REVIEW_SHARE = 0.05
REJECTED_SHARE = 0.005  # unlabelled again, with the reviewer's comment
SCORED_SHARE = 0.6  # of the unlabelled: scored by the best model
PREANNOTATED_SHARE = 0.3  # of the scored: with the model's boxes
SPLIT_WEIGHTS = {Split.TRAIN: 0.8, Split.VAL: 0.1, Split.TEST: 0.1}
LABEL_KIND = {"rectangle": "box", "circle": "polygon", "triangle": "polygon"}


@transaction.atomic
def members_seed(*, project, users: dict) -> int:
    """Add every user of `users` ({role: [user, ...]}) but the owner (the
    project's creator) as a member with that role. Returns how many."""
    rows = Membership.objects.bulk_create(
        Membership(project=project, user=user, role=role)
        for role, members in users.items()
        if role != Role.OWNER
        for user in members
    )
    return len(rows)


@transaction.atomic
def labelling_seed(
    *,
    project,
    users: dict,
    files: list,
    n_items: int,
    seed: int,
    batch: int,
    model_version_id: int | None,
) -> dict[str, int]:
    """Fill `project` (new, holding only `files`, the items whose image files the
    others share) up to `n_items` items: statuses, shapes, tasks and approval
    events; scored items and pre-annotations name `model_version_id` (the best
    model; None: nothing is scored). Returns the row counts written."""
    rng = random.Random(seed)
    # The scores' own stream, so that they change no other draw of a seed.
    score_rng = random.Random(f"{seed}-scores")
    now = timezone.now()
    annotators = users[Role.ANNOTATOR]
    reviewers = users[Role.REVIEWER]
    statuses = _statuses(rng, n_items - len(files), len(annotators), len(reviewers))
    counts = {"items": len(files), "annotations": 0, "tasks": 0, "events": 0}
    pending = list(enumerate(statuses))
    held_label = iter(annotators)
    held_review = iter(reviewers)
    rejected = 0
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        items = [
            _item(project, files[i % len(files)], i, status, rng, now, annotators)
            for i, status in chunk
        ]
        for item, (_, status) in zip(items, chunk, strict=True):
            if model_version_id and status in ("scored", "preannotated"):
                item.priority = item.uncertainty = rng.random()
                item.scored_by, item.scored_at = model_version_id, now
                # What scoring stores beside the uncertainty (models_mgmt.
                # services.scoring): the rare-class boost and the OOD score,
                # a percentile (uniform for items like the training set).
                item.score_components = {
                    "rare": round(score_rng.random() * 0.2, 6),
                    "ood": round(score_rng.random(), 6),
                }
            elif status == "rejected":  # each annotator has some back
                item.last_annotator = annotators[rejected % len(annotators)]
                rejected += 1
        Item.objects.bulk_create(items, batch_size=1000)
        shapes, tasks, events = [], [], []
        for item, (_, status) in zip(items, chunk, strict=True):
            if status in ("done", "review", "review-held", "rejected"):
                shapes += _shapes(item, rng, item.last_annotator)
            elif status == "preannotated" and model_version_id:
                shapes += _shapes(item, rng, None, model_version_id=model_version_id)
            tasks += _tasks(item, status, rng, now, reviewers, held_label, held_review)
            if status == "done":
                events.append(
                    Event(
                        project=project,
                        actor=rng.choice(reviewers),
                        verb="review_approved",
                        item=item,
                        data={},
                    )
                )
        Annotation.objects.bulk_create(shapes, batch_size=1000)
        Task.objects.bulk_create(tasks, batch_size=1000)
        Event.objects.bulk_create(events, batch_size=1000)
        counts["items"] += len(items)
        counts["annotations"] += len(shapes)
        counts["tasks"] += len(tasks)
        counts["events"] += len(events)
    return counts


def _statuses(rng, n: int, n_annotators: int, n_reviewers: int) -> list[str]:
    """One state per item: done, review, review-held, labeling, rejected,
    scored, preannotated or unscored (the last four are unlabelled)."""
    n_done, n_review = int(n * DONE_SHARE), int(n * REVIEW_SHARE)
    # At least one rejected item per annotator once there are a few dozen items.
    n_rejected = max(int(n * REJECTED_SHARE), min(n_annotators, n // 10))
    n_labeling, n_held = min(n_annotators, n), min(n_reviewers, n_review)
    rest = n - n_done - n_review - n_rejected - n_labeling
    n_scored = int(rest * SCORED_SHARE)
    n_pre = int(n_scored * PREANNOTATED_SHARE)
    states = (
        ["done"] * n_done
        + ["review"] * (n_review - n_held)
        + ["review-held"] * n_held
        + ["labeling"] * n_labeling
        + ["rejected"] * n_rejected
        + ["preannotated"] * n_pre
        + ["scored"] * (n_scored - n_pre)
    )
    states += ["unscored"] * (n - len(states))
    rng.shuffle(states)
    return states


def _item(project, source: Item, i: int, state: str, rng, now, annotators) -> Item:
    status = {
        "done": ItemStatus.DONE,
        "review": ItemStatus.REVIEW,
        "review-held": ItemStatus.REVIEW,
        "labeling": ItemStatus.LABELING,
    }.get(state, ItemStatus.UNLABELED)
    item = Item(
        project=project,
        file=source.file.name,
        thumbnail=source.thumbnail.name,
        original_name=f"large_{i:07d}.png",
        image_format=source.image_format,
        width=source.width,
        height=source.height,
        size_bytes=source.size_bytes,
        # Synthetic and unique: the items share their files.
        checksum=hashlib.sha256(f"seed_large {project.pk} {i}".encode()).hexdigest(),
        status=status,
    )
    if status in (ItemStatus.DONE, ItemStatus.REVIEW) or state == "rejected":
        item.last_annotator = rng.choice(annotators)
        item.version = 2
    if status == ItemStatus.DONE:
        item.split = rng.choices(list(SPLIT_WEIGHTS), list(SPLIT_WEIGHTS.values()))[0]
        item.approved_at = now - timedelta(minutes=rng.randrange(60 * 24 * 90))
    if state == "rejected":
        item.review_comment = "the boxes miss the edges"
        item.rejected_at = now - timedelta(days=rng.randrange(1, 30))
    return item


def _shapes(item: Item, rng, author, model_version_id=None) -> list[Annotation]:
    rows = []
    for _ in range(rng.randint(1, 4)):
        label = rng.choice(list(LABEL_KIND))
        w, h = rng.uniform(8, item.width / 3), rng.uniform(8, item.height / 3)
        x, y = rng.uniform(0, item.width - w), rng.uniform(0, item.height - h)
        if LABEL_KIND[label] == "box":
            geometry, area = {"bbox": [x, y, w, h]}, w * h
        else:
            points = [[x, y + h], [x + w / 2, y], [x + w, y + h]]
            geometry, area = {"points": points}, w * h / 2
        row = Annotation(
            item=item,
            kind=LABEL_KIND[label],
            label=label,
            geometry=geometry,
            area=area,
            author=author,
        )
        if model_version_id is not None:
            row.source, row.model_version_id = AnnotationSource.MODEL, model_version_id
            row.confidence = rng.uniform(0.1, 0.95)
            scores = [rng.random() for _ in LABEL_KIND]
            row.class_scores = [s / sum(scores) for s in scores]
        rows.append(row)
    return rows


def _tasks(item, state, rng, now, reviewers, held_label, held_review) -> list[Task]:
    lease = now + timedelta(seconds=settings.ALWEB_LEASE_SECONDS)
    done = {"lease_expires_at": now, "finished_at": now, "base_version": 1}
    tasks = []
    if state in ("done", "review", "review-held", "rejected"):
        tasks.append(
            Task(
                item=item,
                project_id=item.project_id,
                kind=TaskKind.LABEL,
                assignee=item.last_annotator,
                status=TaskStatus.SUBMITTED,
                **done,
            )
        )
    if state == "done":
        tasks.append(
            Task(
                item=item,
                project_id=item.project_id,
                kind=TaskKind.REVIEW,
                assignee=rng.choice(reviewers),
                status=TaskStatus.APPROVED,
                **done,
            )
        )
    elif state == "rejected":
        tasks.append(
            Task(
                item=item,
                project_id=item.project_id,
                kind=TaskKind.REVIEW,
                assignee=rng.choice(reviewers),
                status=TaskStatus.REJECTED,
                comment=item.review_comment,
                **done,
            )
        )
    elif state == "review-held":
        tasks.append(
            Task(
                item=item,
                project_id=item.project_id,
                kind=TaskKind.REVIEW,
                assignee=next(held_review),
                lease_expires_at=lease,
                base_version=item.version,
            )
        )
    elif state == "labeling":
        tasks.append(
            Task(
                item=item,
                project_id=item.project_id,
                kind=TaskKind.LABEL,
                assignee=next(held_label),
                lease_expires_at=lease,
            )
        )
    return tasks
