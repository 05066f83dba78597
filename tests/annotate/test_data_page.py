"""The data page (issue 13): export form and past exports, import of any format
with its per-file report; a bad file answers 400 listing its problems and
changes nothing."""

import json

import pytest
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Annotation
from annotate.services.exports import coco_chunks
from runs.models import Job, JobKind, JobStatus
from tests.api.helpers import upload_file
from tests.api.test_io import make_ground_truth

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client, project_roles):
    project, users, _ = project_roles
    make_ground_truth(project)
    client.force_login(users[Role.OWNER])
    return project, users, client, reverse("annotate:project-data", args=[project.pk])


def _coco_file(project, mutate=None):
    doc = json.loads("".join(coco_chunks(project=project)))
    if mutate:
        mutate(doc)
    return upload_file("export.json", json.dumps(doc).encode())


def _post(client, url, file, **fields):
    body = {"format": "coco", "as": "ground_truth", "split": "keep"}
    return client.post(url, {**body, "categories": "refuse", **fields, "file": file})


def test_page_has_the_forms_and_lists_past_exports(page):
    project, users, client, url = page
    job = Job.objects.create(
        project=project,
        kind=JobKind.EXPORT,
        task="annotate.tasks.export_run",
        status=JobStatus.SUCCEEDED,
        params={"format": "voc"},
        result={"file": "exports/x.zip", "format": "voc"},
    )
    body = client.get(url).content.decode()
    assert 'data-testid="export-form"' in body and 'data-testid="import-form"' in body
    assert reverse("api-export", args=[project.pk]) in body
    assert reverse("api-export-download", args=[project.pk, job.pk]) in body
    for fmt in ("coco", "yolo", "voc", "label_studio"):
        assert f'value="{fmt}"' in body
    assert 'data-testid="tab-data"' in body


def test_import_shows_the_report(page):
    project, users, client, url = page
    Annotation.objects.all().delete()
    r = _post(client, url, _coco_file_with_shapes(project))
    assert r.status_code == 200
    text = r.content.decode()
    assert "export.json: 1 items, 1 shapes imported as ground_truth" in text
    assert Annotation.objects.count() == 1


def _coco_file_with_shapes(project):
    item = project.items.order_by("id").first()
    doc = {
        "images": [{"id": 1, "file_name": item.original_name, "split": "test"}],
        "categories": [{"id": 1, "name": project.labels[0]}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 9, 9]}
        ],
    }
    return upload_file("export.json", json.dumps(doc).encode())


def test_bad_file_is_400_listing_every_problem_and_keeps_the_choices(page):
    project, users, client, url = page
    before = sorted(Annotation.objects.values_list("id", "geometry"))

    def break_it(doc):
        doc["annotations"][0].update(bbox=[1, 2], shape="box")
        doc["annotations"][1]["category_id"] = 999

    r = _post(client, url, _coco_file(project, break_it), split="redraw")
    assert r.status_code == 400
    text = r.content.decode()
    assert "Nothing was imported" in text
    assert "annotations[0]: bbox must be" in text
    assert "annotations[1]: category_id points to no category" in text
    assert '<option value="redraw" selected>' in text
    assert sorted(Annotation.objects.values_list("id", "geometry")) == before


def test_bad_choices_and_no_file_are_400(page):
    project, users, client, url = page
    r = client.post(url, {"format": "tfrecord", "as": "ground_truth"})
    assert (
        r.status_code == 400 and "format: not one of the choices" in r.content.decode()
    )
    r = client.post(url, {"format": "coco", "as": "ground_truth"})
    assert r.status_code == 400 and "choose a file" in r.content.decode()


def test_adding_labels_needs_the_owner_or_developer(client, page):
    project, users, _, url = page
    client.force_login(users[Role.ANNOTATION_MANAGER])
    r = _post(client, url, _coco_file(project), categories="add")
    assert r.status_code == 403
    assert "adding labels needs the owner or developer" in r.content.decode()


def test_annotator_cannot_see_the_page(client, page):
    project, users, _, url = page
    client.force_login(users[Role.ANNOTATOR])
    assert client.get(url).status_code == 403
