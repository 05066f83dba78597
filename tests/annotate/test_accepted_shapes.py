"""A pre-annotation the annotator submits unchanged is ground truth: it keeps
its model source (throughput, provenance) and is marked accepted, so training,
every export and every later prediction treat it as the labels it now is."""

import io
import json
import xml.etree.ElementTree as ET
import zipfile

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Annotation, TaskKind
from annotate.selectors_loop import ground_truth_images
from annotate.services.labeling import review_approve, task_submit
from annotate.services.predictions import ItemPredictions, item_predictions_replace
from annotate.services.queue import queue_claim_next
from tests.api.helpers import client_for
from tests.api.test_io import import_coco
from tests.factories import make_items

pytestmark = pytest.mark.django_db

MODEL_BOX = [10.0, 12.0, 40.0, 30.0]
HUMAN_BOX = [80.0, 50.0, 50.0, 40.0]


@pytest.fixture
def labelled(project_roles):
    """One item done: a model box accepted unchanged plus a box drawn by hand."""
    project, users, _ = project_roles
    (item,) = make_items(project, 1, size=(160, 120))
    shape = {"kind": "box", "label": "rectangle", "bbox": MODEL_BOX, "confidence": 0.8}
    item_predictions_replace(
        project=project,
        model_version_id=3,
        model_name="v1",
        predictions=[ItemPredictions(item_id=item.pk, shapes=[shape])],
        only_unlabeled=True,
    )
    model_id = Annotation.objects.get(item=item).pk
    task = queue_claim_next(
        project=project, user=users[Role.ANNOTATOR], kind=TaskKind.LABEL
    )
    task_submit(
        task=task,
        shapes=[
            {"id": model_id, "kind": "box", "label": "rectangle", "bbox": MODEL_BOX},
            {"kind": "box", "label": "circle", "bbox": HUMAN_BOX},
        ],
    )
    review = queue_claim_next(
        project=project, user=users[Role.REVIEWER], kind=TaskKind.REVIEW
    )
    review_approve(task=review)
    item.refresh_from_db()
    assert item.status == "done"
    return project, item, client_for(users[Role.OWNER])


def _rows(item):
    return sorted(
        Annotation.objects.filter(item=item).values_list("label", "source", "accepted")
    )


def test_the_kept_pre_annotation_is_accepted_ground_truth(labelled):
    project, item, _ = labelled
    assert _rows(item) == [("circle", "human", False), ("rectangle", "model", True)]
    (gt,) = ground_truth_images(item_ids=[item.pk], split_of={item.pk: "train"})
    assert sorted(s.label for s in gt.shapes) == ["circle", "rectangle"]


def test_every_export_carries_both_shapes(labelled):
    project, item, client = labelled
    url = reverse("api-export", args=[project.pk])
    r = client.get(url, {"format": "coco"})
    doc = json.loads(b"".join(r.streaming_content))
    names = {c["id"]: c["name"] for c in doc["categories"]}
    got = sorted((names[a["category_id"]], a.get("source")) for a in doc["annotations"])
    assert got == [("circle", None), ("rectangle", "model:3")]
    assert all("score" not in a for a in doc["annotations"])  # ground truth
    for fmt in ("yolo", "voc"):
        r = client.get(url, {"format": fmt})
        zf = zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))
        if fmt == "yolo":
            (labels,) = [n for n in zf.namelist() if n.startswith("labels/")]
            assert len(zf.read(labels).decode().splitlines()) == 2
        else:
            (xml,) = [n for n in zf.namelist() if n.endswith(".xml")]
            objects = ET.fromstring(zf.read(xml)).findall("object")
            assert sorted(o.findtext("name") for o in objects) == [
                "circle",
                "rectangle",
            ]


def test_new_predictions_never_replace_or_join_the_ground_truth(labelled):
    project, item, client = labelled
    doc = {
        "images": [{"id": 1, "file_name": item.original_name, "width": 160,
                    "height": 120}],
        "categories": [{"id": 1, "name": "triangle"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                         "bbox": [100, 10, 30, 30], "score": 0.4}],
    }  # fmt: skip
    assert import_coco(client, project, doc, mode="predictions").status_code == 200
    assert ("triangle", "model", False) in _rows(item)
    (gt,) = ground_truth_images(item_ids=[item.pk], split_of={item.pk: "train"})
    assert sorted(s.label for s in gt.shapes) == ["circle", "rectangle"]
    item_predictions_replace(
        project=project,
        model_version_id=4,
        predictions=[ItemPredictions(item_id=item.pk, shapes=[])],
        only_unlabeled=False,
    )
    assert ("rectangle", "model", True) in _rows(item)
    (gt,) = ground_truth_images(item_ids=[item.pk], split_of={item.pk: "train"})
    assert sorted(s.label for s in gt.shapes) == ["circle", "rectangle"]
