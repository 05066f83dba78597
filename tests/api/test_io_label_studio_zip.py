"""Label Studio migration with its images (issue 13): a zip of its JSON export
(made here in Label Studio's documented format) and its media/upload/<project>/
folder imports in one go. The images not yet in the project become items
through the upload's checks, keeping the path the tasks name them by; then the
annotations apply. All or nothing: a bad task or image answers 400 naming it,
and no item and no stored file is left."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from alweb.roles import Role
from annotate.demo_data import synthetic_image
from annotate.models import Annotation, Item
from annotate.services.items import item_create
from tests.api.helpers import client_for, upload_file
from tests.api.test_io_label_studio import _export, _rect
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def _png(seed: int) -> bytes:
    return synthetic_image(seed, 160, 120).png


def _ls_zip(tasks, images: dict[str, bytes], name="project-3-at-2026.json") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, json.dumps(tasks))
        for member, data in images.items():
            zf.writestr(member, data)
    return buffer.getvalue()


def _tasks(labels):
    """Label Studio's export of two uploaded images (its upload storage)."""
    tasks = _export(labels)
    tasks[1]["data"]["image"] = "/data/upload/3/5e6f7a8b-img_1.png"
    return tasks


IMAGES = {
    "media/upload/3/1a2b3c4d-img_0.png": _png(0),
    "media/upload/3/5e6f7a8b-img_1.png": _png(1),
}


def _stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def owner(project_roles):
    project, users, _ = project_roles
    return project, client_for(users[Role.OWNER])


def _post(client, project, data: bytes, as_="ground_truth"):
    return client.post(
        reverse("api-import", args=[project.pk]),
        {
            "as": as_,
            "format": "label_studio",
            "file": upload_file("ls.zip", data, "application/zip"),
        },
        format="multipart",
    )


def test_the_zip_creates_its_items_then_their_shapes_and_predictions(owner):
    project, client = owner
    data = _ls_zip(_tasks(project.labels), IMAGES)
    r = _post(client, project, data)
    assert r.status_code == 200, r.content
    assert r.json()["items_created"] == 2
    assert r.json()["items"] == 2 and r.json()["annotations"] == 3
    items = {i.source_path: i for i in Item.objects.filter(project=project)}
    assert sorted(items) == ["img_0.png", "img_1.png"]
    first, second = items["img_0.png"], items["img_1.png"]
    assert (first.width, first.height, first.original_name) == (160, 120, "img_0.png")
    shapes = {a.kind: a for a in Annotation.objects.filter(item=first)}
    assert shapes["box"].geometry["bbox"] == [16, 24, 40, 60]
    assert shapes["polygon"].geometry["points"] == [[80, 60], [120, 60], [96, 90]]
    assert Annotation.objects.get(item=second).geometry["bbox"] == [80, 60, 16, 12]
    # The same zip as predictions: its images are matched, not created again.
    r = _post(client, project, data, as_="predictions")
    assert r.status_code == 200, r.content
    assert r.json()["items_created"] == 0
    assert Item.objects.filter(project=project).count() == 2
    (pred,) = Annotation.objects.filter(item=first, source="model")
    assert pred.confidence == pytest.approx(0.7)
    assert pred.geometry["bbox"] == [16, 24, 40, 60]


def test_images_already_in_the_project_are_matched_not_duplicated(owner):
    """One image is an item by name, the other by its bytes (another name)."""
    project, client = owner
    (by_name,) = make_items(project, 1, size=(160, 120))  # img_0.png, seed 0
    images = {
        "media/upload/3/1a2b3c4d-img_0.png": _png(0),
        "media/upload/3/5e6f7a8b-img_1.png": _png(7),
    }
    by_bytes = item_create(project=project, data=_png(7), name="elsewhere.png")
    r = _post(client, project, _ls_zip(_tasks(project.labels), images))
    assert r.status_code == 200, r.content
    assert r.json()["items_created"] == 0 and r.json()["items"] == 2
    assert Item.objects.filter(project=project).count() == 2
    assert Annotation.objects.filter(item=by_name).count() == 2
    assert Annotation.objects.filter(item=by_bytes).count() == 1


def test_a_bad_task_is_400_naming_it_and_leaves_no_item_or_file(owner):
    project, client = owner
    before = _stored_files()
    tasks = _tasks(project.labels)
    tasks[1]["annotations"][0]["result"].append(
        {"type": "brushlabels", "value": {"rle": [1, 2], "brushlabels": ["x"]}}
    )
    r = _post(client, project, _ls_zip(tasks, IMAGES))
    assert r.status_code == 400, r.content
    assert "tasks[1].annotations[0].result[1]" in json.dumps(r.json())
    assert not Item.objects.exists() and not Annotation.objects.exists()
    assert _stored_files() == before


def test_a_bad_image_is_400_naming_its_task_and_member(owner):
    project, client = owner
    before = _stored_files()
    images = {**IMAGES, "media/upload/3/5e6f7a8b-img_1.png": b"not an image"}
    r = _post(client, project, _ls_zip(_tasks(project.labels), images))
    assert r.status_code == 400, r.content
    (error,) = r.json()["file"]
    assert error.startswith("tasks[1] image 'media/upload/3/5e6f7a8b-img_1.png': ")
    assert "not an image" in error
    assert not Item.objects.exists()
    assert _stored_files() == before


def test_a_task_without_its_image_is_400_and_nothing_is_created(owner):
    project, client = owner
    tasks = _tasks(project.labels)
    result = [_rect(project.labels[0], 1, 1, 5, 5)]
    tasks.append(
        {
            "id": 3,
            "data": {"image": "/data/upload/3/9c9c9c9c-gone.png"},
            "annotations": [{"id": 13, "result": result}],
        }
    )
    r = _post(client, project, _ls_zip(tasks, IMAGES))
    assert r.status_code == 400, r.content
    assert r.json()["file"] == ["tasks[2]: 0 items match 'gone.png'"]
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    "members, reason",
    [
        ({}, "one Label Studio JSON export"),
        ({"a.json": b"[]", "b.json": b"[]"}, "one Label Studio JSON export"),
        ({"a.json": b"{not json"}, "a.json: not valid JSON"),
        ({"a.json": b'{"tasks": []}'}, "a list of tasks"),
    ],
)
def test_a_zip_without_one_json_export_is_400(owner, members, reason):
    project, client = owner
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("media/upload/3/1a2b3c4d-img_0.png", _png(0))
        for name, data in members.items():
            zf.writestr(name, data)
    r = _post(client, project, buffer.getvalue())
    assert r.status_code == 400, r.content
    assert reason in json.dumps(r.json())
    assert not Item.objects.exists()


def test_the_data_page_imports_the_zip_with_its_images(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.OWNER])
    url = reverse("annotate:project-data", args=[project.pk])
    data = _ls_zip(_tasks(project.labels), IMAGES)
    r = client.post(
        url,
        {
            "format": "label_studio",
            "as": "ground_truth",
            "split": "keep",
            "categories": "refuse",
            "file": upload_file("ls.zip", data, "application/zip"),
        },
    )
    assert r.status_code == 200, r.content
    assert "ls.zip: 2 images added as items; 2 items, 3 shapes imported" in (
        r.content.decode()
    )
    assert Item.objects.filter(project=project).count() == 2
