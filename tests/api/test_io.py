"""COCO / YOLO export and COCO import through the API (RELIABILITY E27-28, F)."""

import io
import json
import zipfile

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from alweb.roles import Role
from annotate.demo_data import synthetic_image
from annotate.models import Annotation, Item
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.labeling import items_make_ground_truth
from runs.models import Job
from tests.api.helpers import client_for, upload_file
from tests.factories import make_items

pytestmark = pytest.mark.django_db


def make_ground_truth(project, n=6, start=0):
    items = make_items(project, n, start_seed=start, size=(160, 120))
    # The image's own seed (make_items draws image k from seed start + k): the
    # shapes fit the picture, and the data do not depend on database ids.
    for k, item in enumerate(items):
        shapes = synthetic_image(start + k, 160, 120).shapes
        shapes = [s for s in shapes if s["label"] in project.labels]
        annotations_replace(
            item=item, shapes=shapes_validate(item=item, shapes=shapes), author=None
        )
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    return items


def export_coco(client, project) -> dict:
    r = client.get(reverse("api-export", args=[project.pk]), {"format": "coco"})
    assert r.status_code == 200, r
    assert r["Content-Type"] == "application/json"
    return json.loads(b"".join(r.streaming_content))


def normalised(doc: dict) -> dict:
    """The documented normalisation of a round trip: annotation ids are the new
    annotations' own ids (everything else must come back identical)."""
    return {
        **doc,
        "annotations": [{**a, "id": None} for a in doc["annotations"]],
    }


def import_coco(client, project, document, mode="ground_truth"):
    # json.dumps writes NaN / Infinity tokens as a hostile client would.
    return client.post(
        reverse("api-import", args=[project.pk]),
        json.dumps({"as": mode, "coco": document}),
        content_type="application/json",
    )


@pytest.fixture
def gt(project_roles):
    project, users, _ = project_roles
    items = make_ground_truth(project)
    return project, client_for(users[Role.OWNER]), items


def test_coco_export_has_splits_categories_and_shapes(gt):
    project, client, items = gt
    doc = export_coco(client, project)
    assert [c["name"] for c in doc["categories"]] == project.labels
    assert {i["id"] for i in doc["images"]} == {i.pk for i in items}
    assert all(i["split"] in ("train", "val", "test") for i in doc["images"])
    assert len(doc["annotations"]) == Annotation.objects.count()
    for a in doc["annotations"]:
        assert len(a["bbox"]) == 4
        assert a["segmentation"] == [] or len(a["segmentation"][0]) >= 6
    assert all(
        "/" not in i["file_name"] and ".." not in i["file_name"] for i in doc["images"]
    )


def test_round_trip_export_import_export_is_identical(gt):
    project, client, _ = gt
    first = export_coco(client, project)
    Annotation.objects.all().delete()
    r = import_coco(client, project, first)
    assert r.status_code == 200, r.content
    assert normalised(export_coco(client, project)) == normalised(first)


def test_annotation_ids_are_the_same_on_every_export(gt):
    project, client, _ = gt
    first = export_coco(client, project)
    assert [a["id"] for a in first["annotations"]] == list(
        Annotation.objects.order_by("item_id", "id").values_list("id", flat=True)
    )
    assert export_coco(client, project) == first


def test_import_predictions_keeps_human_shapes(gt):
    project, client, items = gt
    doc = export_coco(client, project)
    humans = Annotation.objects.count()
    for a in doc["annotations"]:
        a["score"] = 0.5
    r = import_coco(client, project, doc, mode="predictions")
    assert r.status_code == 200
    assert Annotation.objects.filter(source="model", confidence=0.5).count() == humans
    assert Annotation.objects.filter(source="human").count() == humans


def test_import_as_multipart_file(gt):
    project, client, _ = gt
    doc = export_coco(client, project)
    r = client.post(
        reverse("api-import", args=[project.pk]),
        {"as": "ground_truth", "file": upload_file("c.json", json.dumps(doc).encode())},
        format="multipart",
    )
    assert r.status_code == 200, r.content


def _valid_doc(gt):
    project, client, _ = gt
    return export_coco(client, project)


JUNK = {
    "missing keys": lambda d: {"images": d["images"]},
    "bbox wrong length": lambda d: _ann(d, bbox=[1, 2, 3], segmentation=[]),
    "odd segmentation": lambda d: _ann(d, segmentation=[[1, 2, 3, 4, 5, 6, 7]]),
    "rle": lambda d: _ann(d, segmentation={"counts": [1, 2], "size": [4, 4]}),
    "rle counts off the alphabet": lambda d: _ann(
        d, segmentation={"counts": "\u00ff", "size": [120, 160]}
    ),
    "split unknown": lambda d: {**d, "images": [{**d["images"][0], "split": "x"}]},
    "image_id nowhere": lambda d: _ann(d, image_id=987654),
    "category nowhere": lambda d: _ann(d, category_id=987654),
    "duplicate annotation ids": lambda d: {
        **d,
        "annotations": d["annotations"] + d["annotations"][:1],
    },
    "duplicate image ids": lambda d: {**d, "images": d["images"] + d["images"][:1]},
    "html category": lambda d: {
        **d,
        "categories": [{"id": 1, "name": "<img src=x onerror=alert(1)>"}],
    },
    "path file_name": lambda d: _img(d, file_name="../../etc/passwd"),
    "absolute file_name": lambda d: _img(d, file_name="/etc/passwd"),
    "unknown file": lambda d: _img(d, file_name="nope.png"),
    "nan bbox": lambda d: _ann(d, bbox=["NaN", 1, 2, 3], segmentation=[]),
    "inf bbox": lambda d: _ann(d, bbox=[1e308, 1e308, 1e308, 1e308], segmentation=[]),
    "string bbox": lambda d: _ann(d, bbox=["12px", 1, 2, 3], segmentation=[]),
    "bool bbox": lambda d: _ann(d, bbox=[True, 1, 2, 3], segmentation=[]),
    "null bbox": lambda d: _ann(d, bbox=None, segmentation=[]),
    "negative size": lambda d: _ann(d, bbox=[10, 10, -5, -5], segmentation=[]),
    "bowtie": lambda d: _ann(d, segmentation=[[0, 0, 10, 10, 10, 0, 0, 10]]),
    "two points": lambda d: _ann(d, segmentation=[[0, 0, 10, 10]]),
    "collinear": lambda d: _ann(d, segmentation=[[0, 0, 5, 5, 10, 10]]),
    "outside": lambda d: _ann(d, bbox=[5000, 5000, 10, 10], segmentation=[]),
    "score out of range": lambda d: _ann(d, score=7),
    "not an object": lambda d: [1, 2, 3],
    "annotation not object": lambda d: {**d, "annotations": ["x"]},
}


def _ann(d, **changes):
    # Without "shape": "box" the importer reads the segmentation (a box's
    # corner polygon is ignored in favour of its bbox).
    d["annotations"][0].pop("shape", None)
    d["annotations"][0].update(changes)
    return d


def _img(d, **changes):
    d["images"][0].update(changes)
    return d


@pytest.mark.parametrize("case", sorted(JUNK))
def test_coco_junk_is_400_with_reasons_and_changes_nothing(gt, case):
    project, client, _ = gt
    doc = JUNK[case](_valid_doc(gt))
    before = sorted(Annotation.objects.values_list("id", "geometry"))
    r = import_coco(client, project, doc)
    assert r.status_code == 400, (case, r.content)
    body = r.json()
    assert body.get("file") or body.get("coco"), body
    assert sorted(Annotation.objects.values_list("id", "geometry")) == before


def test_every_error_is_listed(gt):
    project, client, _ = gt
    doc = _valid_doc(gt)
    for a in doc["annotations"]:
        a["bbox"] = [1]
        a["segmentation"] = []
    r = import_coco(client, project, doc)
    assert len(r.json()["file"]) == len(doc["annotations"])


def test_import_bad_mode_and_bad_json_file(gt):
    project, client, _ = gt
    assert import_coco(client, project, {}, mode="truth").status_code == 400
    r = client.post(
        reverse("api-import", args=[project.pk]),
        {"as": "predictions", "file": upload_file("c.json", b"[" * 100_000)},
        format="multipart",
    )
    assert r.status_code == 400 and "file" in r.json()


def test_import_over_the_size_limit_is_413(gt, settings):
    project, client, _ = gt
    settings.ALWEB_MAX_IMPORT_BYTES = 1000
    r = import_coco(client, project, _valid_doc(gt))
    assert r.status_code == 413


@hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    doc=st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "images",
                        "annotations",
                        "categories",
                        "id",
                        "bbox",
                        "segmentation",
                        "image_id",
                        "category_id",
                        "file_name",
                        "name",
                        "iscrowd",
                        "score",
                    ]
                ),
                children,
                max_size=6,
            )
        ),
        max_leaves=25,
    )
)
def test_coco_import_never_500s_on_arbitrary_json(project_roles, doc):
    project, users, _ = project_roles
    r = import_coco(client_for(users[Role.OWNER]), project, doc)
    assert r.status_code in (200, 400)


number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.text(max_size=4),
    st.booleans(),
    st.none(),
)


@hsettings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["box", "polygon"]),
    coords=st.lists(number, min_size=0, max_size=12),
)
def test_geometry_junk_is_400_or_stored_finite(gt, kind, coords):
    import math

    project, client, items = gt
    item = items[0]
    name = Item.objects.get(pk=item.pk).original_name
    if kind == "box":
        ann = {"bbox": coords[:4] if len(coords) >= 4 else coords, "segmentation": []}
    else:
        ann = {"segmentation": [coords], "bbox": [0, 0, 1, 1]}
    doc = {
        "images": [{"id": 1, "file_name": name}],
        "categories": [{"id": 1, "name": project.labels[0]}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, **ann}],
    }
    r = import_coco(client, project, doc)
    assert r.status_code in (200, 400), r.content
    if r.status_code == 200:
        for a in Annotation.objects.filter(item=item):
            values = a.geometry.get("bbox") or [
                c for p in a.geometry["points"] for c in p
            ]
            assert all(math.isfinite(v) for v in values)
            assert math.isfinite(a.area)


def test_yolo_export_is_an_ultralytics_zip(gt):
    project, client, items = gt
    r = client.get(reverse("api-export", args=[project.pk]), {"format": "yolo"})
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))
    names = zf.namelist()
    assert "data.yaml" in names
    images = [n for n in names if n.startswith("images/")]
    labels = [n for n in names if n.startswith("labels/")]
    assert len(images) == len(labels) == len(items)
    for n in images:
        split = n.split("/")[1]
        assert split in ("train", "val", "test")
    yaml = zf.read("data.yaml").decode()
    assert "train: images/train" in yaml and f"nc: {len(project.labels)}" in yaml
    for n in labels:
        for line in zf.read(n).decode().splitlines():
            cls, *vals = line.split()
            assert 0 <= int(cls) < len(project.labels)
            assert all(0 <= float(v) <= 1 for v in vals) and len(vals) % 2 == 0


def test_unknown_export_format_is_400(gt):
    project, client, _ = gt
    r = client.get(reverse("api-export", args=[project.pk]), {"format": "tfrecord"})
    assert r.status_code == 400 and "format" in r.json()


def test_large_export_runs_in_the_background(
    gt, settings, django_capture_on_commit_callbacks
):
    project, client, _ = gt
    settings.ALWEB_EXPORT_SYNC_MAX_ITEMS = 2
    expected = export_coco_direct(project)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.get(reverse("api-export", args=[project.pk]), {"format": "coco"})
    assert r.status_code == 202, r.content
    status = client.get(r.data["status_url"]).json()
    assert status["status"] == "succeeded", status
    assert status["progress"] == 1.0 and status["download_url"]
    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert json.loads(b"".join(download.streaming_content)) == expected
    assert Job.objects.get(pk=r.data["job"]).kind == "export"


def export_coco_direct(project):
    from annotate.services.exports import coco_chunks

    url = "http://testserver/api/v1/items/{id}/image"
    return json.loads("".join(coco_chunks(project=project, image_url=url)))


def test_failed_background_export_offers_no_file(gt, settings, monkeypatch):
    from annotate.services import exports

    project, client, _ = gt

    def boom(**kwargs):
        raise RuntimeError("disk full")
        yield ""

    monkeypatch.setattr(exports, "coco_chunks", boom)
    job = exports.export_start(project=project, actor=None, fmt="coco")
    exports.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "disk full" in job.error
    url = reverse("api-export-download", args=[project.pk, job.pk])
    assert client.get(url).status_code == 404
    # a re-run works
    monkeypatch.undo()
    job2 = exports.export_start(project=project, actor=None, fmt="coco")
    exports.export_job_run(job_id=job2.pk)
    job2.refresh_from_db()
    assert job2.status == "succeeded"


# Items are 160 x 120: shapes start inside the image (they may extend past it).
xs = st.floats(min_value=0, max_value=150, allow_nan=False, allow_infinity=False)
ys = st.floats(min_value=0, max_value=110, allow_nan=False, allow_infinity=False)
box = st.tuples(xs, ys, st.floats(1, 60), st.floats(1, 60)).map(
    lambda t: {"kind": "box", "bbox": list(t)}
)
triangle = st.tuples(xs, ys, st.floats(5, 40), st.floats(5, 40)).map(
    lambda t: {
        "kind": "polygon",
        "points": [[t[0], t[1]], [t[0] + t[2], t[1]], [t[0], t[1] + t[3]]],
    }
)


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(shapes=st.lists(st.one_of(box, triangle), max_size=6), label=st.integers(0, 3))
def test_round_trip_of_random_annotation_sets(gt, shapes, label):
    project, client, items = gt
    item = items[0]
    labelled = [
        {**s, "label": project.labels[label % len(project.labels)]} for s in shapes
    ]
    annotations_replace(
        item=item, shapes=shapes_validate(item=item, shapes=labelled), author=None
    )
    first = export_coco(client, project)
    assert import_coco(client, project, first).status_code == 200
    second = export_coco(client, project)
    assert normalised(second) == normalised(first)
    assert import_coco(client, project, second).status_code == 200
    assert normalised(export_coco(client, project)) == normalised(first)
