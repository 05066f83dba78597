"""COCO with its images and named predictions (issue 13): `images=true`
answers a zip of annotations.json and every image under images/ at its
file_name, at once or in the background; pycocotools reads it from disk and
each image matches its record; the document imports back. Predictions carry
the version's name as users know it."""

import contextlib
import io
import json
import zipfile

import pytest
from django.urls import reverse
from PIL import Image
from pycocotools.coco import COCO

from alweb.roles import Role
from annotate.models import Item
from runs.models import Job
from tests.api.helpers import client_for
from tests.api.test_io import export_coco, import_coco, make_ground_truth, normalised

pytestmark = pytest.mark.django_db


@pytest.fixture
def gt(project_roles):
    project, users, _ = project_roles
    items = make_ground_truth(project)
    return project, client_for(users[Role.OWNER]), items


def _check_zip(data: bytes, tmp_path, expected_doc: dict) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        assert zf.testzip() is None
        doc = json.loads(zf.read("annotations.json"))
        for image in doc["images"]:
            member = f"images/{image['file_name']}"
            assert member in names, member
            with Image.open(io.BytesIO(zf.read(member))) as img:
                assert img.size == (image["width"], image["height"])
            assert "coco_url" not in image
        assert names == {"annotations.json"} | {
            f"images/{i['file_name']}" for i in doc["images"]
        }
        zf.extractall(tmp_path)
    # pycocotools reads the file as written, from disk.
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(tmp_path / "annotations.json"))
    assert len(coco.getImgIds()) == len(expected_doc["images"])
    assert len(coco.getAnnIds()) == len(expected_doc["annotations"])
    # The same document as the JSON export, but for coco_url.
    plain = {**expected_doc, "images": [
        {k: v for k, v in i.items() if k != "coco_url"} for i in expected_doc["images"]
    ]}  # fmt: skip
    assert doc == plain
    return doc


def test_coco_with_images_is_a_zip_pycocotools_reads(gt, tmp_path):
    project, client, items = gt
    expected = export_coco(client, project)
    r = client.get(
        reverse("api-export", args=[project.pk]), {"format": "coco", "images": "true"}
    )
    assert r.status_code == 200
    assert r["Content-Type"] == "application/zip"
    assert f'filename="project-{project.pk}-coco.zip"' in r["Content-Disposition"]
    doc = _check_zip(b"".join(r.streaming_content), tmp_path, expected)
    assert len(doc["images"]) == len(items)
    # Its document imports back into the project, unchanged.
    assert import_coco(client, project, doc).status_code == 200
    assert normalised(export_coco(client, project)) == normalised(expected)


def test_coco_with_images_in_the_background(
    gt, tmp_path, settings, django_capture_on_commit_callbacks
):
    project, client, _ = gt
    expected = export_coco(client, project)
    settings.ALWEB_EXPORT_SYNC_MAX_ITEMS = 2
    with django_capture_on_commit_callbacks(execute=True):
        r = client.get(
            reverse("api-export", args=[project.pk]),
            {"format": "coco", "images": "true"},
        )
    assert r.status_code == 202, r.content
    job = Job.objects.get(pk=r.data["job"])
    assert job.params["images"] is True and "image_url" not in job.params
    status = client.get(r.data["status_url"]).json()
    assert status["status"] == "succeeded" and status["progress"] == 1.0, status
    download = client.get(status["download_url"])
    assert download["Content-Type"] == "application/zip"
    _check_zip(b"".join(download.streaming_content), tmp_path, expected)


def test_images_is_ignored_by_the_dataset_formats_and_refuses_junk(gt):
    project, client, _ = gt
    url = reverse("api-export", args=[project.pk])
    r = client.get(url, {"format": "coco", "images": "maybe"})
    assert r.status_code == 400 and "images" in r.json()
    yolo = client.get(url, {"format": "yolo", "images": "true"})
    assert yolo.status_code == 200 and yolo["Content-Type"] == "application/zip"
    assert Item.objects.filter(project=project).count() == 6


def test_predictions_carry_the_version_name_users_know(gt):
    from annotate.models import Annotation, ItemStatus
    from annotate.services.predictions import ItemPredictions, item_predictions_replace

    project, client, _ = gt
    done = list(Item.objects.filter(project=project, status=ItemStatus.DONE))
    shape = {"kind": "box", "label": project.labels[0], "bbox": [1, 2, 30, 40]}
    item_predictions_replace(
        project=project,
        model_version_id=41,
        model_name="v3",
        predictions=[ItemPredictions(done[0].pk, [{**shape, "confidence": 0.8}])],
        only_unlabeled=False,
    )
    assert Annotation.objects.get(source="model").model_name == "v3"
    r = client.get(
        reverse("api-export", args=[project.pk]),
        {"format": "coco", "predictions": "true"},
    )
    (pred,) = json.loads(b"".join(r.streaming_content))["predictions"]
    assert (pred["model_version"], pred["model_name"], pred["source"]) == (
        41,
        "v3",
        "model:41",
    )
    assert pred["score"] == 0.8 and pred["image_id"] == done[0].pk
