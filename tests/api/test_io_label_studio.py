"""Label Studio migration (issue 13): its JSON export, made here in Label
Studio's documented format (tasks with annotations and predictions, regions in
percent of the image), imported into a project."""

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from alweb.roles import Role
from annotate.models import Annotation
from annotate.services.imports_ls import image_name
from tests.api.helpers import client_for, upload_file
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def _rect(label, x, y, w, h, **extra):
    return {
        "id": f"r{x}{y}",
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": 160,
        "original_height": 120,
        "image_rotation": 0,
        "value": {
            "x": x,
            "y": y,
            "width": w,
            "height": h,
            "rotation": 0,
            "rectanglelabels": [label],
        },
        **extra,
    }


def _poly(label, points):
    return {
        "id": "p1",
        "type": "polygonlabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": 160,
        "original_height": 120,
        "value": {"points": points, "polygonlabels": [label], "closed": True},
    }


def _export(labels):
    a, b = labels[0], labels[1]
    return [
        {
            "id": 1,
            "data": {"image": "/data/upload/3/1a2b3c4d-img_0.png"},
            "annotations": [
                {"id": 10, "was_cancelled": True, "result": [_rect(b, 0, 0, 5, 5)]},
                {
                    "id": 11,
                    "was_cancelled": False,
                    "result": [
                        _rect(a, 10, 20, 25, 50),
                        _poly(b, [[50, 50], [75, 50], [60, 75]]),
                    ],
                },
            ],
            "predictions": [
                {
                    "model_version": "yolo-v3",
                    "score": 0.7,
                    "result": [_rect(a, 10, 20, 25, 50)],
                }
            ],
        },
        {
            "id": 2,
            "data": {"image": "s3://bucket/frames/img_1.png"},
            "annotations": [
                {"id": 12, "result": [_rect(b, 50, 50, 10, 10, score=0.4)]}
            ],
            "predictions": [],
        },
    ]


@pytest.fixture
def ls(project_roles):
    project, users, _ = project_roles
    items = make_items(project, 2, size=(160, 120))
    return project, client_for(users[Role.OWNER]), items


def _post(client, project, tasks, **fields):
    # json.dumps writes NaN / Infinity tokens as a hostile client would.
    body = {"as": "ground_truth", "format": "label_studio", "label_studio": tasks}
    return client.post(
        reverse("api-import", args=[project.pk]),
        json.dumps({**body, **fields}),
        content_type="application/json",
    )


def test_label_studio_export_imports_rectangles_and_polygons(ls):
    project, client, items = ls
    r = _post(client, project, _export(project.labels))
    assert r.status_code == 200, r.content
    assert r.json()["items"] == 2 and r.json()["annotations"] == 3
    first = {a.kind: a for a in Annotation.objects.filter(item=items[0])}
    assert first["box"].geometry["bbox"] == [16, 24, 40, 60]
    assert first["box"].label == project.labels[0]
    assert first["polygon"].geometry["points"] == [[80, 60], [120, 60], [96, 90]]
    assert Annotation.objects.get(item=items[1]).geometry["bbox"] == [80, 60, 16, 12]
    assert items[0].__class__.objects.get(pk=items[0].pk).status == "done"


def test_label_studio_predictions_carry_their_score(ls):
    project, client, items = ls
    r = client.post(
        reverse("api-import", args=[project.pk]),
        {
            "as": "predictions",
            "format": "label_studio",
            "file": upload_file(
                "ls.json", json.dumps(_export(project.labels)).encode()
            ),
        },
        format="multipart",
    )
    assert r.status_code == 200, r.content
    (pred,) = Annotation.objects.filter(item=items[0], source="model")
    assert pred.confidence == pytest.approx(0.7)


def test_label_studio_unsupported_regions_are_named(ls):
    project, client, _ = ls
    tasks = _export(project.labels)
    tasks[1]["annotations"][0]["result"].append(
        {"type": "brushlabels", "value": {"rle": [1, 2], "brushlabels": ["x"]}}
    )
    r = _post(client, project, tasks)
    assert r.status_code == 400
    assert "tasks[1].annotations[0].result[1]" in json.dumps(r.json())
    assert not Annotation.objects.exists()


def test_image_names_of_label_studio_storages():
    assert image_name("/data/upload/3/1a2b3c4d-cam1.png") == "cam1.png"
    assert image_name("/data/local-files/?d=cams/cam1/a%20b.png") == "cams/cam1/a b.png"
    assert image_name("https://host/bucket/x/y.jpg?sig=1") == "bucket/x/y.jpg"
    assert image_name("") is None and image_name(3) is None


regions = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["rectanglelabels", "polygonlabels", "choices", None]),
        "value": st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(
                    [
                        "x",
                        "y",
                        "width",
                        "height",
                        "rotation",
                        "points",
                        "rectanglelabels",
                        "polygonlabels",
                    ]
                ),
                st.one_of(
                    st.floats(),
                    st.integers(-5, 120),
                    st.text(max_size=3),
                    st.lists(st.lists(st.floats(-5, 120), max_size=3), max_size=4),
                    st.just(["x"]),
                ),
                max_size=8,
            ),
        ),
    }
)


@hsettings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(results=st.lists(regions, max_size=4))
def test_malformed_label_studio_regions_never_half_import(ls, results):
    project, client, items = ls
    tasks = _export(project.labels)
    tasks[1]["annotations"][0]["result"] = results
    r = _post(client, project, tasks, categories="refuse")
    assert r.status_code in (200, 400), r.content
    if r.status_code == 400:
        assert not Annotation.objects.exists()
    Annotation.objects.all().delete()
