"""YOLO and Pascal VOC both ways (issue 13): exports parsed back, round trips
identical with splits kept, files of other tools imported, malformed files
refused per file with nothing half-imported."""

import io
import json
import zipfile
from xml.etree import ElementTree

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from alweb.roles import Role
from annotate.models import Annotation, Item
from tests.api.helpers import client_for, upload_file, zip_bytes
from tests.api.test_io import make_ground_truth
from tests.factories import make_items, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def gt(project_roles):
    project, users, _ = project_roles
    items = make_ground_truth(project)
    return project, client_for(users[Role.OWNER]), items


def export_zip(client, project, fmt) -> zipfile.ZipFile:
    r = client.get(reverse("api-export", args=[project.pk]), {"format": fmt})
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content)))


def import_zip(client, project, fmt, data: bytes, **fields):
    return client.post(
        reverse("api-import", args=[project.pk]),
        {
            "as": "ground_truth",
            "format": fmt,
            "file": upload_file("d.zip", data),
            **fields,
        },
        format="multipart",
    )


def _zip_of(zf: zipfile.ZipFile, keep=lambda n: True) -> bytes:
    return zip_bytes({n: zf.read(n) for n in zf.namelist() if keep(n)})


def _texts(zf: zipfile.ZipFile, prefixes) -> dict[str, bytes]:
    return {n: zf.read(n) for n in zf.namelist() if n.startswith(prefixes)}


def test_voc_export_parses_back_to_the_ground_truth(gt):
    project, client, items = gt
    zf = export_zip(client, project, "voc")
    xmls = [n for n in zf.namelist() if n.startswith("Annotations/")]
    assert len(xmls) == len(items)
    boxes = 0
    for name in xmls:
        root = ElementTree.fromstring(zf.read(name))
        assert root.tag == "annotation"
        assert f"JPEGImages/{root.findtext('filename')}" in zf.namelist()
        assert (root.findtext("size/width"), root.findtext("size/height")) == (
            "160",
            "120",
        )
        for obj in root.findall("object"):
            assert obj.findtext("name") in project.labels
            xmin, ymin, xmax, ymax = (
                float(obj.findtext(f"bndbox/{k}"))
                for k in ("xmin", "ymin", "xmax", "ymax")
            )
            assert 1 <= xmin <= xmax <= 160 and 1 <= ymin <= ymax <= 120
            boxes += 1
    assert boxes == Annotation.objects.count()
    listed = []
    for split in ("train", "val", "test"):
        listed += zf.read(f"ImageSets/Main/{split}.txt").decode().split()
    assert sorted(listed) == sorted(n[len("Annotations/") : -4] for n in xmls)


def test_voc_round_trip_is_identical_and_keeps_splits(gt):
    project, client, _ = gt
    first = export_zip(client, project, "voc")
    splits = dict(Item.objects.values_list("pk", "split"))
    Annotation.objects.all().delete()
    Item.objects.update(status="unlabeled", split=None)
    r = import_zip(
        client,
        project,
        "voc",
        _zip_of(first, lambda n: n.endswith(".txt") or n.endswith(".xml")),
    )
    assert r.status_code == 200, r.content
    assert r.json()["splits_kept"] == len(splits)
    assert dict(Item.objects.values_list("pk", "split")) == splits
    second = export_zip(client, project, "voc")
    keys = ("Annotations/", "ImageSets/")
    assert _texts(second, keys) == _texts(first, keys)


def test_yolo_round_trip_is_identical_and_keeps_splits(gt):
    project, client, _ = gt
    first = export_zip(client, project, "yolo")
    splits = dict(Item.objects.values_list("pk", "split"))
    Annotation.objects.all().delete()
    Item.objects.update(status="unlabeled", split=None)
    r = import_zip(client, project, "yolo", _zip_of(first))
    assert r.status_code == 200, r.content
    assert dict(Item.objects.values_list("pk", "split")) == splits
    second = export_zip(client, project, "yolo")
    keys = ("labels/", "data.yaml")
    assert _texts(second, keys) == _texts(first, keys)


def test_yolo_export_goes_into_another_project_with_the_same_images(gt, project_roles):
    project, client, _ = gt
    first = export_zip(client, project, "yolo")
    other = make_project(project.created_by, name="Copy", labels=project.labels)
    make_items(other, 6, size=(160, 120))
    r = import_zip(
        client, other, "yolo", _zip_of(first, lambda n: not n.startswith("images/"))
    )
    assert r.status_code == 200, r.content
    assert r.json()["items"] == 6
    assert sorted(
        _texts(export_zip(client, other, "yolo"), ("labels/",)).values()
    ) == sorted(_texts(first, ("labels/",)).values())


def test_yolo_detect_files_of_another_tool_with_scores_as_predictions(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    items = make_items(project, 2, size=(160, 120))
    names = "names:\n  0: cat\n  1: dog\n"
    archive = zip_bytes(
        {
            "ds/data.yaml": names.encode(),
            "ds/images/val/img_0.png": b"",
            "ds/labels/val/img_0.txt": b"1 0.5 0.5 0.25 0.5 0.8\n",
            "ds/labels/train/img_1.txt": b"0 0.1 0.1 0.2 0.2 0.3\n\n",
        }
    )
    r = import_zip(
        client,
        project,
        "yolo",
        archive,
        **{
            "as": "predictions",
            "category_map": json.dumps(
                {"cat": project.labels[0], "dog": project.labels[1]}
            ),
        },
    )
    assert r.status_code == 200, r.content
    first = Annotation.objects.get(item=items[0])
    assert first.source == "model" and first.confidence == pytest.approx(0.8)
    assert first.label == project.labels[1]
    assert first.geometry["bbox"] == pytest.approx([60, 30, 40, 60])


def test_voc_of_another_tool_adds_its_labels_by_choice(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    (item,) = make_items(project, 1, size=(160, 120))
    xml = (
        "<annotation><filename>img_0.png</filename><size><width>160</width>"
        "<height>120</height><depth>3</depth></size><object><name>zebra</name>"
        "<bndbox><xmin>11</xmin><ymin>21</ymin><xmax>40</xmax><ymax>60</ymax>"
        "</bndbox></object></annotation>"
    )
    archive = zip_bytes({"VOC/Annotations/a.xml": xml.encode()})
    r = import_zip(client, project, "voc", archive)
    assert r.status_code == 400 and "'zebra'" in json.dumps(r.json())
    r = import_zip(client, project, "voc", archive, categories="add")
    assert r.status_code == 200 and r.json()["labels_added"] == ["zebra"]
    assert Annotation.objects.get(item=item).geometry["bbox"] == [10, 20, 30, 40]


@pytest.mark.parametrize(
    "xml",
    [
        '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><annotation>&x;</annotation>',
        "<annotation><filename>img_0.png</filename>",
        "<annotation><filename>img_0.png</filename><size><width>99</width>"
        "<height>120</height></size></annotation>",
        "<annotation><filename>img_0.png</filename><object><name>a</name>"
        "<bndbox><xmin>9</xmin><ymin>1</ymin><xmax>2</xmax><ymax>5</ymax></bndbox>"
        "</object></annotation>",
    ],
)
def test_bad_voc_files_are_400_naming_the_file(gt, xml):
    project, client, _ = gt
    before = sorted(Annotation.objects.values_list("id", "geometry"))
    good = export_zip(client, project, "voc")
    members = {n: good.read(n) for n in good.namelist() if n.endswith(".xml")}
    members["Annotations/zz_bad.xml"] = xml.encode()
    r = import_zip(client, project, "voc", zip_bytes(members))
    assert r.status_code == 400, r.content
    assert "file" in r.json()
    assert sorted(Annotation.objects.values_list("id", "geometry")) == before


def test_yolo_import_needs_a_zip_file_and_names(gt):
    project, client, _ = gt
    r = client.post(
        reverse("api-import", args=[project.pk]),
        {"as": "ground_truth", "format": "yolo"},
        format="json",
    )
    assert r.status_code == 400 and "file" in r.json()
    assert import_zip(client, project, "yolo", b"not a zip").status_code == 400
    r = import_zip(client, project, "yolo", zip_bytes({"labels/train/a.txt": b""}))
    assert r.status_code == 400 and "data.yaml" in json.dumps(r.json())


tokens = st.one_of(
    st.sampled_from(["0", "1", "9", "-1", "x", "nan", "inf", "0.5", "1e309", "2.0"]),
    st.floats(-1, 2).map(lambda v: f"{v:.3f}"),
)


@hsettings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(tokens, max_size=9).map(" ".join), max_size=4))
def test_malformed_yolo_lines_are_400_or_valid_and_never_half_imported(gt, lines):
    project, client, _ = gt
    good = export_zip(client, project, "yolo")
    members = {n: good.read(n) for n in good.namelist() if not n.startswith("images/")}
    label = sorted(n for n in members if n.startswith("labels/"))[-1]
    members[label] += ("\n".join(lines) + "\n").encode()
    before = sorted(Annotation.objects.values_list("id", "geometry"))
    r = import_zip(client, project, "yolo", zip_bytes(members))
    assert r.status_code in (200, 400), r.content
    if r.status_code == 400:
        assert label in json.dumps(r.json()) or "annotations[" in json.dumps(r.json())
        assert sorted(Annotation.objects.values_list("id", "geometry")) == before
