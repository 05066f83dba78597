"""Bulk rows for `manage.py seed_large`: a large project as months of work leave
it, written with bulk_create in batches (no per-row services: 100,000 items
would take an hour through them).

Used only by the seed_large command, on a project it has just created: it
writes annotate's items, annotations, tasks and events, and models_mgmt's
versions, evaluations and comparisons and runs' jobs directly, in the
command's transaction.
"""

import hashlib
import random
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from alweb.roles import Role
from annotate.models import (
    Annotation,
    AnnotationSource,
    Event,
    Item,
    ItemStatus,
    Split,
    Task,
    TaskKind,
    TaskStatus,
)
from models_mgmt.models import Comparison, Evaluation, ModelStatus, ModelVersion
from runs.models import Job, JobKind, JobStatus

# Shares of the items (the rest is unlabelled); labelling is one item per
# annotator (each holds one claim), two review items are held by reviewers.
DONE_SHARE = 0.12
REVIEW_SHARE = 0.05
REJECTED_SHARE = 0.005  # unlabelled again, with the reviewer's comment
SCORED_SHARE = 0.6  # of the unlabelled: scored by the best model
PREANNOTATED_SHARE = 0.3  # of the scored: with the model's boxes
SPLIT_WEIGHTS = {Split.TRAIN: 0.8, Split.VAL: 0.1, Split.TEST: 0.1}
LABEL_KIND = {"rectangle": "box", "circle": "polygon", "triangle": "polygon"}


def seed_project(
    *, project, users: dict, files: list, n_items: int, seed: int, batch: int
) -> dict[str, int]:
    """Fill `project` (new, holding only `files`, the items whose image files the
    others share) up to `n_items` items. Returns the row counts written."""
    rng = random.Random(seed)
    now = timezone.now()
    annotators = users[Role.ANNOTATOR]
    reviewers = users[Role.REVIEWER]
    statuses = _statuses(rng, n_items - len(files), len(annotators), len(reviewers))
    versions = _model_versions(project, users[Role.DEVELOPER][0], now)
    best = next(v for v in versions if v.is_best)
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
            if status == "scored" or status == "preannotated":
                item.priority = item.uncertainty = rng.random()
                item.scored_by, item.scored_at = best.pk, now
            elif status == "rejected":  # each annotator has some back
                item.last_annotator = annotators[rejected % len(annotators)]
                rejected += 1
        Item.objects.bulk_create(items, batch_size=1000)
        shapes, tasks, events = [], [], []
        for item, (_, status) in zip(items, chunk, strict=True):
            if status in ("done", "review", "review-held", "rejected"):
                shapes += _shapes(item, rng, item.last_annotator)
            elif status == "preannotated":
                shapes += _shapes(item, rng, None, model=best)
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
    counts.update(_history(project, versions, users, now))
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


def _shapes(item: Item, rng, author, model=None) -> list[Annotation]:
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
        if model is not None:
            row.source, row.model_version_id = AnnotationSource.MODEL, model.pk
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


def _model_versions(project, developer, now) -> list[ModelVersion]:
    """A base model and five trained versions: v4 is the best, v5 lost its
    comparison, v6 failed. No weights files: they were never trained here."""
    labels = list(project.labels)
    config = {"architecture": "yolov8n-seg.yaml", "epochs": 50, "imgsz": 320}
    base = ModelVersion.objects.create(
        project=project,
        number=1,
        name="base-1",
        is_base=True,
        architecture="yolov8n-seg.yaml",
        task="segment",
        status=ModelStatus.DONE,
        class_names=labels,
        created_by=developer,
    )
    versions, parent = [base], base
    for number, map50 in ((2, 0.41), (3, 0.52), (4, 0.61), (5, 0.58), (6, None)):
        version = ModelVersion.objects.create(
            project=project,
            number=number,
            name=f"v{number}",
            parent=parent,
            architecture="yolov8n-seg.yaml",
            task="segment",
            config=config,
            class_names=labels,
            epochs=50,
            epoch=50 if map50 else 12,
            progress=1.0 if map50 else 0.24,
            status=ModelStatus.DONE if map50 else ModelStatus.FAILED,
            error="" if map50 else "CUDA out of memory",
            metrics=_metrics(map50, labels) if map50 else {},
            losses={"box_loss": 2.0 / (50 if map50 else 12)},
            history=[
                {"epoch": e, "box_loss": 2.0 / e, "cls_loss": 1.5 / e}
                | ({"map50": round(map50 * e / 50, 4)} if map50 else {})
                for e in range(1, (50 if map50 else 12) + 1)
            ],
            created_by=developer,
            started_at=now - timedelta(days=40 - number * 6),
            finished_at=now - timedelta(days=40 - number * 6, hours=-2),
        )
        versions.append(version)
        if number <= 4:
            parent = version
    best = next(v for v in versions if v.number == 4)
    # Each promoted version records the one it replaced (roll back walks back).
    for number in (3, 4):
        ModelVersion.objects.filter(project=project, number=number).update(
            promoted_from=next(v for v in versions if v.number == number - 1)
        )
    ModelVersion.objects.filter(pk=best.pk).update(is_best=True)
    best.is_best = True
    return versions


def _metrics(map50: float, labels: list[str]) -> dict:
    return {
        "map50": map50,
        "map50_95": round(map50 * 0.6, 3),
        "precision": round(map50 + 0.1, 3),
        "recall": round(map50 - 0.05, 3),
        "per_class": {label: {"map50": map50} for label in labels},
    }


def _history(project, versions, users, now) -> dict[str, int]:
    """Frozen splits on the trained versions, evaluations, comparisons and runs."""
    split_ids = {
        split: list(
            Item.objects.filter(project=project, split=split)
            .order_by("id")
            .values_list("pk", flat=True)
        )
        for split in Split.values
    }
    trained = [v for v in versions if not v.is_base]
    ModelVersion.objects.filter(pk__in=[v.pk for v in trained]).update(
        train_item_ids=split_ids["train"], val_item_ids=split_ids["val"]
    )
    evaluations, comparisons, jobs = [], [], []
    incumbent = None
    developer = users[Role.DEVELOPER][0]
    for version in trained:
        jobs.append(_job(project, JobKind.TRAIN, version, developer, now))
        if version.status != ModelStatus.DONE:
            continue
        evaluations.append(
            Evaluation(
                project=project,
                model_version=version,
                test_item_ids=split_ids["test"],
                metrics=version.metrics,
            )
        )
        promoted = (
            incumbent is None or version.metrics["map50"] > (incumbent.metrics["map50"])
        )
        comparisons.append(
            Comparison(
                project=project,
                candidate=version,
                incumbent=incumbent,
                config={"metric": "map50", "min_delta": 0.0},
                metric="map50",
                candidate_value=version.metrics["map50"],
                incumbent_value=incumbent.metrics["map50"] if incumbent else None,
                winner="candidate" if promoted else "incumbent",
                promoted=promoted,
                reason="higher map50" if promoted else "not better on map50",
                test_item_ids=split_ids["test"],
            )
        )
        if promoted:
            incumbent = version
            jobs.append(_job(project, JobKind.SCORE, version, developer, now))
    manager = users[Role.ANNOTATION_MANAGER][0]
    for fmt in ("coco", "yolo"):
        job = _job(project, JobKind.EXPORT, None, manager, now)
        job.params, job.result = {"format": fmt}, {"items": len(split_ids["train"])}
        jobs.append(job)
    Evaluation.objects.bulk_create(evaluations)
    Comparison.objects.bulk_create(comparisons)
    Job.objects.bulk_create(jobs)
    return {
        "model versions": len(versions),
        "evaluations": len(evaluations),
        "comparisons": len(comparisons),
        "runs": len(jobs),
    }


def _job(project, kind, version, actor, now) -> Job:
    failed = version is not None and version.status == ModelStatus.FAILED
    task, queue = {
        JobKind.TRAIN: ("models_mgmt.tasks.run_training", "training"),
        JobKind.SCORE: ("models_mgmt.tasks.run_scoring", "work"),
        JobKind.EXPORT: ("annotate.tasks.export_run", "work"),
    }[kind]
    ended = version.finished_at if version is not None else now - timedelta(days=1)
    return Job(
        project=project,
        kind=kind,
        status=JobStatus.FAILED if failed else JobStatus.SUCCEEDED,
        progress=version.progress if failed else 1.0,
        error=version.error if failed else "",
        model_version_id=version.pk if version is not None else None,
        task=task,
        queue=queue,
        created_by=actor,
        started_at=ended - timedelta(hours=2),
        heartbeat_at=ended,
        finished_at=ended,
    )
