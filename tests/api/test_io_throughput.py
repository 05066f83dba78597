"""The COCO export carries each image's labelling throughput (who, active
seconds, shapes, model shapes offered and kept, agreement) in its own image
field; pycocotools still reads the file and an import ignores the field."""

import json
from datetime import timedelta

import pytest
from pycocotools.coco import COCO

from alweb.roles import Role
from annotate.models import Annotation, AnnotationSource, Item, Pipeline, Task
from annotate.services.labeling import (
    items_make_ground_truth,
    review_approve,
    task_submit,
)
from annotate.services.queue import queue_claim_next
from tests.api.helpers import client_for
from tests.api.test_io import export_coco, import_coco
from tests.factories import UserFactory, add_member, make_items, make_project

pytestmark = pytest.mark.django_db


def box(label, x, y=5, w=20, h=20):
    return {"kind": "box", "label": label, "bbox": [x, y, w, h]}


def _label(project, user, shapes, *, seconds):
    task = queue_claim_next(project=project, user=user, kind="label")
    assert task is not None
    # The claim happened `seconds` ago: the active time the export must show.
    Task.objects.filter(pk=task.pk).update(
        created_at=task.created_at - timedelta(seconds=seconds)
    )
    task_submit(task=task, shapes=shapes)
    return task


def _approve(project, reviewer):
    review = queue_claim_next(project=project, user=reviewer, kind="review")
    assert review is not None
    review_approve(task=review)


@pytest.fixture
def team():
    owner = UserFactory(username="t-own")
    project = make_project(owner, name="Throughput")
    users = {
        name: add_member(project, role, UserFactory(username=name))
        for name, role in (
            ("ann", Role.ANNOTATOR),
            ("ann2", Role.ANNOTATOR),
            ("rev", Role.REVIEWER),
        )
    }
    return project, owner, users


def test_coco_export_gives_each_labelled_image_its_throughput(team, tmp_path):
    project, owner, u = team
    plain, with_model, consensus = make_items(project, 3)
    Item.objects.filter(pk=plain.pk).update(priority=0.9)
    Item.objects.filter(pk=with_model.pk).update(priority=0.8)
    # Two model shapes on the second item: one kept as it is, one dropped.
    kept = Annotation.objects.create(
        item=with_model,
        source=AnnotationSource.MODEL,
        kind="box",
        label="circle",
        geometry={"bbox": [5, 5, 20, 20]},
        area=400,
        model_version_id=1,
        confidence=0.9,
    )
    Annotation.objects.create(
        item=with_model,
        source=AnnotationSource.MODEL,
        kind="box",
        label="circle",
        geometry={"bbox": [60, 5, 20, 20]},
        area=400,
        model_version_id=1,
        confidence=0.8,
    )
    _label(project, u["ann"], [box("circle", 5), box("rectangle", 40)], seconds=42)
    _approve(project, u["rev"])
    model_kept = {**box("circle", 5), "id": kept.pk}
    _label(project, u["ann2"], [model_kept, box("triangle", 70)], seconds=3600)
    _approve(project, u["rev"])
    Pipeline.objects.filter(project=project).update(consensus_share=1.0)
    _label(project, u["ann"], [box("circle", 5)], seconds=10)
    _label(project, u["ann2"], [box("circle", 5), box("rectangle", 40)], seconds=20)
    _approve(project, u["rev"])

    api = client_for(owner)
    doc = export_coco(api, project)
    images = {i["id"]: i for i in doc["images"]}
    first = images[plain.pk]["labelling"]
    # Claim to submit: the seconds set above, plus the test's own few ms.
    near = {"abs": 1.0}
    assert [(r["annotator"], r["active_seconds"]) for r in first] == [
        ("ann", pytest.approx(42, **near))
    ]
    assert (first[0]["shapes"], first[0]["model_shapes"]) == (2, 0)
    assert (first[0]["model_kept"], first[0]["agreement"]) == (0, None)
    (second,) = images[with_model.pk]["labelling"]
    # An hour-long claim counts for the cap (30 minutes), as on the Work page.
    assert (second["annotator"], second["active_seconds"]) == ("ann2", 1800.0)
    assert (second["shapes"], second["model_shapes"], second["model_kept"]) == (
        2,
        2,
        1,
    )
    both = images[consensus.pk]["labelling"]
    assert [(r["annotator"], r["active_seconds"], r["shapes"]) for r in both] == [
        ("ann", pytest.approx(10, **near), 1),
        ("ann2", pytest.approx(20, **near), 2),
    ]
    assert [r["agreement"] for r in both] == [pytest.approx(2 / 3)] * 2
    assert all(r["submitted_at"] for r in first + both)

    # pycocotools reads the file from disk, the extra field and all.
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc))
    coco = COCO(str(path))
    assert sorted(coco.getImgIds()) == sorted(images)
    assert coco.loadImgs([plain.pk])[0]["labelling"] == first
    assert len(coco.getAnnIds(imgIds=[plain.pk])) == 2

    # An import of the file ignores the field; what it brings has no labelling.
    other = make_project(owner, name="Copy")
    make_items(other, 3)
    r = import_coco(api, other, doc)
    assert r.status_code in (200, 201), r.content


def test_images_never_labelled_in_alweb_carry_no_labelling(team):
    project, owner, _ = team
    items = make_items(project, 2)
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    doc = export_coco(client_for(owner), project)
    assert len(doc["images"]) == 2
    assert all("labelling" not in image for image in doc["images"])
