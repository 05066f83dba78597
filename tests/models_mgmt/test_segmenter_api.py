"""Click-to-segment through the API: the project's segmentation weights
(upload, replace, delete, refused names) and a point prompt on an item, with
one real MobileSAM predict from random-init weights built here."""

import io
import os
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone
from PIL import Image

from alweb.roles import Role
from annotate.models import Event, Task, TaskKind
from annotate.services.items import item_create
from models_mgmt.models import Segmenter
from models_mgmt.services.segmenter import NO_OBJECT, NO_WEIGHTS
from tests import network_guard
from tests.api.helpers import client_for, upload_file
from tests.factories import add_member, make_items, make_project

CHECKPOINT = b"\x80\x02}q\x00."  # a pickle's first bytes


def _url(project):
    return f"/api/v1/projects/{project.pk}/segmenter/"


def _segment_url(item):
    return f"/api/v1/items/{item.pk}/segment/"


@pytest.fixture
def project(db):
    return make_project(name="Seg", labels=["cat", "dog"], kinds=["box", "polygon"])


@pytest.fixture
def owner(project):
    return project.memberships.get(role="owner").user


@pytest.mark.django_db
def test_upload_refuses_a_name_ultralytics_cannot_tell_and_saves_nothing(
    project, owner
):
    client = client_for(owner)
    for name, data in [
        ("weights.pt", CHECKPOINT),
        ("mobile_sam.pth", CHECKPOINT),
        ("mobile_sam.pt", b"not a checkpoint"),
    ]:
        response = client.post(
            _url(project), {"file": upload_file(name, data)}, format="multipart"
        )
        assert response.status_code == 400, (name, response.data)
        assert "file" in response.data
    assert "must end with" in str(
        client.post(
            _url(project),
            {"file": upload_file("x.pt", CHECKPOINT)},
            format="multipart",
        ).data["file"]
    )
    assert client.post(_url(project), {}, format="multipart").status_code == 400
    assert not Segmenter.objects.exists()
    assert client.get(_url(project)).data["present"] is False


@pytest.mark.django_db
def test_upload_replace_and_delete_with_events(
    project, owner, django_capture_on_commit_callbacks
):
    client = client_for(owner)
    first = client.post(
        _url(project),
        {"file": upload_file("mobile_sam.pt", CHECKPOINT)},
        format="multipart",
    )
    assert first.status_code == 201, first.data
    assert first.data["present"] is True
    assert first.data["file_name"] == "mobile_sam.pt"
    assert first.data["size_bytes"] == len(CHECKPOINT)
    old_path = Segmenter.objects.get().weights.path
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(
            _url(project),
            {"file": upload_file("my_sam_b.pt", CHECKPOINT + b"x")},
            format="multipart",
        )
    assert second.status_code == 201
    (segmenter,) = Segmenter.objects.all()
    assert segmenter.file_name == "my_sam_b.pt"
    assert segmenter.weights.name.endswith("/my_sam_b.pt")
    got = client.get(_url(project)).data
    assert (got["present"], got["file_name"], got["size_bytes"]) == (
        True,
        "my_sam_b.pt",
        len(CHECKPOINT) + 1,
    )
    assert not os.path.exists(old_path)
    new_path = segmenter.weights.path
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(_url(project)).status_code == 204
    assert not Segmenter.objects.exists() and not os.path.exists(new_path)
    assert client.delete(_url(project)).status_code == 204  # nothing left: fine
    verbs = list(
        Event.objects.filter(project=project, verb__startswith="segmenter")
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == ["segmenter_uploaded", "segmenter_uploaded", "segmenter_deleted"]


@pytest.mark.django_db
def test_segment_without_weights_says_so_and_bad_points_are_400(project, owner):
    (item,) = make_items(project, 1, start_seed=5)  # 96 x 72
    client = client_for(owner)
    response = client.post(_segment_url(item), {"x": 10, "y": 10}, format="json")
    assert response.status_code == 409
    assert response.data["detail"] == NO_WEIGHTS
    for body, field in [
        ({"y": 10}, "x"),
        ({"x": 10}, "y"),
        ({"x": "ten", "y": 10}, "x"),
        ({"x": "10", "y": 10}, "x"),
        ({"x": True, "y": 10}, "x"),
        ({"x": 97, "y": 10}, "x"),
        ({"x": -1, "y": 10}, "x"),
        ({"x": 10, "y": 72.5}, "y"),
        ({"x": 10, "y": 10, "label": "bird"}, "label"),
        ({"x": 10**400, "y": 10}, "x"),
        ({"x": None, "y": 10}, "x"),
    ]:
        response = client.post(_segment_url(item), body, format="json")
        assert response.status_code == 400, (body, response.data)
        assert field in response.data, (body, response.data)
    response = client.post(_segment_url(item), [1, 2], format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_annotator_holding_the_item_may_segment_a_viewer_of_others_may_not(
    project,
):
    (item, other) = make_items(project, 2, start_seed=7)
    annotator = add_member(project, Role.ANNOTATOR)
    Task.objects.create(
        item=item,
        project=project,
        kind=TaskKind.LABEL,
        assignee=annotator,
        lease_expires_at=timezone.now() + timedelta(minutes=10),
    )
    client = client_for(annotator)
    # Allowed: the answer is about the weights, not about who asks.
    assert (
        client.post(_segment_url(item), {"x": 1, "y": 1}, format="json").status_code
        == 409
    )
    assert (
        client.post(_segment_url(other), {"x": 1, "y": 1}, format="json").status_code
        == 404
    )


def build_sam_weights(folder):
    """Random-init MobileSAM built by ultralytics' own builder (no download),
    saved as folder/mobile_sam.pt."""
    from models_mgmt.services.backend import get_backend

    get_backend()  # offline set-up before ultralytics is imported
    import torch
    from ultralytics.models.sam.build import build_mobile_sam

    torch.manual_seed(0)
    model = build_mobile_sam(checkpoint=None)
    with torch.no_grad():
        # Lift the IoU head so the predictor keeps a mask (random init scores
        # every mask below SAM's confidence floor).
        model.mask_decoder.iou_prediction_head.layers[-1].bias.fill_(5.0)
    path = folder / "mobile_sam.pt"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def sam_weights(tmp_path_factory):
    return build_sam_weights(tmp_path_factory.mktemp("sam"))


def noise_item(project):
    """A 160 x 120 image of seeded noise (random-init MobileSAM finds a mask
    on it at its centre; on the flat synthetic images it finds none)."""
    pixels = (np.random.default_rng(0).random((120, 160, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return item_create(project=project, data=buffer.getvalue(), name="noise.png")


@pytest.mark.slow
@pytest.mark.django_db
def test_a_click_gives_one_valid_polygon_with_the_label_asked(
    project, owner, sam_weights
):
    item = noise_item(project)
    client = client_for(owner)
    with open(sam_weights, "rb") as fh:
        response = client.post(_url(project), {"file": fh}, format="multipart")
    assert response.status_code == 201, response.data
    response = client.post(
        _segment_url(item), {"x": 80, "y": 60, "label": "dog"}, format="json"
    )
    assert response.status_code == 200, response.data
    shape = response.data["shape"]
    assert shape["kind"] == "polygon" and shape["label"] == "dog"
    assert len(shape["points"]) >= 3
    assert all(0 <= x <= 160 and 0 <= y <= 120 for x, y in shape["points"])
    # A flat synthetic image: the model finds no region, and says so.
    (flat,) = make_items(project, 1, start_seed=11)
    response = client.post(_segment_url(flat), {"x": 48, "y": 36}, format="json")
    assert response.status_code == 400
    assert response.data == {"point": [NO_OBJECT]}
    assert network_guard.pending() == []


@pytest.mark.django_db
def test_models_page_form_uploads_refuses_and_removes_the_weights(
    project, owner, client
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    page = f"/projects/{project.pk}/models/"
    form = f"/projects/{project.pk}/models/segmenter/"
    assert 'data-testid="segmenter-absent"' in client.get(page).content.decode()
    bad = SimpleUploadedFile("weights.pt", CHECKPOINT)
    html = client.post(form, {"file": bad}, follow=True).content.decode()
    assert "must end with one of" in html and "mobile_sam.pt" in html
    assert not Segmenter.objects.exists()
    good = SimpleUploadedFile("mobile_sam.pt", CHECKPOINT)
    html = client.post(form, {"file": good}, follow=True).content.decode()
    assert 'data-testid="segmenter-present"' in html
    assert "mobile_sam.pt" in html and "uploaded: the Segment tool" in html
    html = client.post(form, {"action": "delete"}, follow=True).content.decode()
    assert 'data-testid="segmenter-absent"' in html
    assert not Segmenter.objects.exists()


@pytest.mark.django_db
def test_deleting_the_project_removes_its_segmentation_weights(
    project, owner, django_capture_on_commit_callbacks
):
    from annotate.services.projects import project_delete

    response = client_for(owner).post(
        _url(project),
        {"file": upload_file("mobile_sam.pt", CHECKPOINT)},
        format="multipart",
    )
    path = Segmenter.objects.get().weights.path
    assert response.status_code == 201 and os.path.exists(path)
    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=project, actor=owner)
    assert not Segmenter.objects.exists() and not os.path.exists(path)
