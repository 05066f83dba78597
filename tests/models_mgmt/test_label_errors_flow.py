"""Label-error candidates after a promotion, on generated data with known
truth: the model is scripted to predict the true shapes (fake_backend.DETECT),
the approved labels of held-out items carry planted errors (a flipped class,
a box shifted by half its size, a deleted shape, one per item), and the
re-review queue's top ranks must hold them (the issue's figure, small)."""

import random

import pytest
from django.core.exceptions import ValidationError

from annotate.demo_data import DEMO_LABELS, synthetic_image
from annotate.models import Event, FlagStatus, Item, ItemStatus, LabelErrorFlag
from annotate.selectors_flags import label_error_flags_open
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.label_errors import label_error_confirm, label_error_fix
from annotate.services.labeling import items_make_ground_truth
from ml.types import Detection
from models_mgmt.models import Evaluation
from models_mgmt.services import backend as backend_service
from models_mgmt.services.label_errors import label_errors_check
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from runs.models import Job, JobKind
from tests.factories import UserFactory, make_items, make_project
from tests.models_mgmt import fake_backend

N_ITEMS = 60
PER_KIND = 4  # planted errors of each kind
EXPECTED = {"flip": "wrong_class", "shift": "shifted_box", "delete": "missing_label"}


def _bounds(shape) -> tuple:
    if "bbox" in shape:
        return tuple(shape["bbox"])
    xs = [p[0] for p in shape["points"]]
    ys = [p[1] for p in shape["points"]]
    return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _truth(shapes):
    """The scripted model: every true shape, confident, its class' score high."""
    return [
        Detection(
            s["label"],
            0.9,
            tuple(0.9 if c == s["label"] else 0.02 for c in DEMO_LABELS),
            _bounds(s),
        )
        for s in shapes
    ]


def _shifted(shape: dict, width: int) -> dict:
    """The shape moved right (or left, at the edge) by half its width."""
    x, _, w, _ = _bounds(shape)
    dx = w / 2 if x + w * 1.5 < width - 1 else -w / 2
    if "bbox" in shape:
        b = shape["bbox"]
        return {**shape, "bbox": [b[0] + dx, b[1], b[2], b[3]]}
    return {**shape, "points": [[px + dx, py] for px, py in shape["points"]]}


def _plant(kind: str, shapes: list[dict], rng: random.Random, width: int):
    shapes = [dict(s) for s in shapes]
    i = rng.randrange(len(shapes))
    if kind == "flip":
        others = [c for c in DEMO_LABELS if c != shapes[i]["label"]]
        shapes[i]["label"] = rng.choice(others)
    elif kind == "shift":
        shapes[i] = _shifted(shapes[i], width)
    else:
        del shapes[i]
    return shapes


@pytest.fixture
def planted(settings, transactional_db):
    owner = UserFactory(username="le-owner")
    project = make_project(owner, name="Label errors")
    pipeline_update(
        project=project,
        actor=owner,
        data={
            "split": {"train": 0.4, "val": 0.3, "test": 0.3, "seed": 3},
            "comparison_config": {"min_test_items": 1},
        },
    )
    items = make_items(project, N_ITEMS)
    truth = {}
    for i, item in enumerate(items):
        shapes = synthetic_image(i, 96, 72).shapes
        truth[item.file.path] = shapes
        annotations_replace(
            item=item, shapes=shapes_validate(item=item, shapes=shapes), author=owner
        )
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    held = list(
        Item.objects.filter(project=project, split__in=["val", "test"]).order_by("pk")
    )
    rng = random.Random(14)
    # Items with two shapes or more, so that a deletion leaves a label.
    chosen = rng.sample([i for i in held if len(truth[i.file.path]) > 1], 3 * PER_KIND)
    plants = {}
    for n, item in enumerate(chosen):
        kind = ("flip", "shift", "delete")[n // PER_KIND]
        shapes = _plant(kind, truth[item.file.path], rng, item.width)
        annotations_replace(
            item=item, shapes=shapes_validate(item=item, shapes=shapes), author=owner
        )
        plants[item.pk] = kind
    settings.ALWEB_ML_BACKEND = "tests.models_mgmt.fake_backend"
    backend_service.get_backend.cache_clear()
    fake_backend.SCORES.clear()
    fake_backend.DETECT = lambda content, path: _truth(truth[path])
    yield project, owner, held, plants
    fake_backend.DETECT = None
    backend_service.get_backend.cache_clear()


def test_planted_errors_top_the_queue_after_a_promotion(planted):
    project, owner, held, plants = planted
    version = training_start(project=project, actor=owner)
    version.refresh_from_db()
    assert version.is_best  # the first model: promoted, then the check ran
    job = Job.objects.get(project=project, kind=JobKind.LABEL_ERRORS)
    assert job.status == "succeeded", job.error
    assert job.result["checked"] == len(held)
    queue = list(label_error_flags_open(project=project))
    assert [f.score for f in queue] == sorted((f.score for f in queue), reverse=True)
    top = {f.item_id: f for f in queue[: 2 * len(plants)]}
    for kind, expected in EXPECTED.items():
        mine = [pk for pk, k in plants.items() if k == kind]
        found = [
            pk
            for pk in mine
            if pk in top and expected in {c["kind"] for c in top[pk].candidates}
        ]
        recall = len(found) / len(mine)
        print(f"recall@{2 * len(plants)} {kind}: {recall:.2f}")
        assert recall >= 0.7, (kind, found, mine)
    clean = [i.pk for i in held if i.pk not in plants]
    assert clean
    assert not LabelErrorFlag.objects.filter(item_id__in=clean).exists()
    flag = top[next(iter(plants))]
    assert flag.model_name == version.name and flag.model_version_id == version.pk
    top_candidate = flag.candidates[0]
    assert {"kind", "score", "reason", "gt_bbox", "pred_bbox"} <= set(top_candidate)
    event = Event.objects.get(project=project, verb="label_errors_flagged")
    assert event.data["flagged"] == len(queue) and event.data["model"] == version.pk


def test_confirm_is_remembered_for_the_version_and_fix_reopens(planted):
    project, owner, held, plants = planted
    version = training_start(project=project, actor=owner)
    queue = list(label_error_flags_open(project=project))
    confirmed = queue[0]
    fixed = next(f for f in queue[1:] if f.item.split == "test")
    label_error_confirm(flag=confirmed, actor=owner)
    with pytest.raises(ValidationError):  # answered once only
        label_error_confirm(flag=confirmed, actor=owner)
    with pytest.raises(ValidationError):
        label_error_fix(flag=confirmed, actor=owner)
    fixed_item = fixed.item
    split = fixed_item.split
    evaluation = Evaluation.objects.get(model_version=version)
    assert not evaluation.stale
    label_error_fix(flag=fixed, actor=owner, comment="")
    fixed_item.refresh_from_db()
    assert fixed_item.status == ItemStatus.UNLABELED
    assert fixed_item.held_split == split
    assert "possible label error" in fixed_item.review_comment
    reopened = Event.objects.get(verb="item_reopened", item=fixed_item)
    assert reopened.data["shapes"]  # the old version kept in history
    evaluation.refresh_from_db()
    assert evaluation.stale  # it used the reopened test item
    assert Event.objects.filter(verb="label_error_confirmed").count() == 1
    assert Event.objects.filter(verb="label_error_fixed").count() == 1
    # The same version checks again: the confirmed item is not flagged again,
    # the reopened one is no longer ground truth; the other flags come back.
    result = label_errors_check(project=project)
    again = {f.item_id for f in label_error_flags_open(project=project)}
    assert confirmed.item_id not in again and fixed.item_id not in again
    assert again == {f.item_id for f in queue} - {confirmed.item_id, fixed.item_id}
    assert result["flagged"] == len(queue) - 2
    assert LabelErrorFlag.objects.get(pk=confirmed.pk).status == FlagStatus.CONFIRMED
