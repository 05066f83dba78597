"""COCO that other tools read and write (issue 13): pycocotools COCO + COCOeval
on the export, file names that keep folders, splits and review state carried,
predictions with their model version, RLE and multi-ring regions, categories."""

import contextlib
import io
import json

import numpy as np
import pytest
from django.conf import settings
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from alweb.roles import Role
from annotate.models import Annotation, Item, ItemStatus
from annotate.services.labeling import items_make_ground_truth
from annotate.services.predictions import ItemPredictions, item_predictions_replace
from tests.api.helpers import client_for, png, upload_file, zip_bytes
from tests.api.test_io import export_coco, import_coco, make_ground_truth, normalised
from tests.factories import make_items, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def gt(project_roles):
    project, users, _ = project_roles
    items = make_ground_truth(project)
    return project, client_for(users[Role.OWNER]), items


def _coco(doc: dict) -> COCO:
    coco = COCO()
    coco.dataset = json.loads(json.dumps(doc))
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _evaluate(gt_coco: COCO, results: list[dict], iou_type: str) -> float:
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt_coco.loadRes(json.loads(json.dumps(results)))
        ev = COCOeval(gt_coco, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0])


def _predict_ground_truth(project, version=7, score=0.9):
    """Model annotations equal to the ground truth (a perfect model)."""
    predictions = []
    for item in Item.objects.filter(project=project, status=ItemStatus.DONE):
        shapes = [
            {"kind": a.kind, "label": a.label, **a.geometry, "confidence": score}
            for a in Annotation.objects.filter(item=item, source="human")
        ]
        predictions.append(ItemPredictions(item_id=item.pk, shapes=shapes))
    item_predictions_replace(
        project=project,
        model_version_id=version,
        predictions=predictions,
        only_unlabeled=False,
    )


def test_pycocotools_masks_and_cocoeval_bbox_and_segm_on_the_export(gt):
    project, client, _ = gt
    assert set(Annotation.objects.values_list("kind", flat=True)) == {"box", "polygon"}
    _predict_ground_truth(project)
    r = client.get(
        reverse("api-export", args=[project.pk]),
        {"format": "coco", "predictions": "true"},
    )
    doc = json.loads(b"".join(r.streaming_content))
    gt_coco = _coco(doc)
    for ann in doc["annotations"]:
        mask = gt_coco.annToMask(ann)
        assert mask.shape == (120, 160) and mask.sum() > 0
        assert ann["shape"] in ("box", "polygon")
    preds = doc["predictions"]
    assert len(preds) == len(doc["annotations"])
    assert {(p["model_version"], p["source"], p["score"]) for p in preds} == {
        (7, "model:7", 0.9)
    }
    assert _evaluate(gt_coco, preds, "bbox") > 0.99
    assert _evaluate(gt_coco, preds, "segm") > 0.99


def test_zip_folders_stay_apart_in_the_export_and_it_imports_back(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    archive = zip_bytes(
        {
            "cam1/frame_0001.png": png(1, 160, 120),
            "cam2/frame_0001.png": png(2, 160, 120),
        }
    )
    r = client.post(
        reverse("api-item-list", args=[project.pk]),
        {"files": [upload_file("batch.zip", archive)]},
        format="multipart",
    )
    assert len(r.data["created"]) == 2
    items = list(Item.objects.filter(project=project))
    assert {i.original_name for i in items} == {"frame_0001.png"}
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    doc = export_coco(client, project)
    assert sorted(i["file_name"] for i in doc["images"]) == [
        "cam1/frame_0001.png",
        "cam2/frame_0001.png",
    ]
    assert import_coco(client, project, doc).status_code == 200


def test_each_image_has_a_coco_url_that_serves_it(gt):
    project, client, items = gt
    doc = export_coco(client, project)
    for image in doc["images"]:
        assert image["coco_url"].startswith("http://testserver/api/v1/items/")
        r = client.get(image["coco_url"].removeprefix("http://testserver"))
        assert r.status_code == 200 and r["Content-Type"] == "image/png"


def test_same_name_twice_gets_the_item_id_and_imports_back(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    for seed in (3, 4):
        client.post(
            reverse("api-item-list", args=[project.pk]),
            {"files": [upload_file("a.png", png(seed, 160, 120))]},
            format="multipart",
        )
    ids = sorted(Item.objects.values_list("pk", flat=True))
    items_make_ground_truth(project=project, item_ids=ids)
    doc = export_coco(client, project)
    assert sorted(i["file_name"] for i in doc["images"]) == [f"a~{i}.png" for i in ids]
    r = import_coco(client, project, doc)
    assert r.status_code == 200 and r.json()["items"] == 2


def _copy_project(users, labels, kinds=("box", "polygon")):
    """A second project holding the same images (named like the first's)."""
    other = make_project(users[Role.OWNER], name="Copy", labels=labels, kinds=kinds)
    make_items(other, 6, size=(160, 120))
    return other


def test_round_trip_into_another_project_keeps_splits_and_shapes(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    make_ground_truth(project)
    first = export_coco(client, project)
    other = _copy_project(users, project.labels)
    r = import_coco(client, other, first)
    assert r.status_code == 200, r.content
    assert r.json()["splits_kept"] == 6
    second = export_coco(client, other)

    def by_name(doc):
        names = {i["id"]: i["file_name"] for i in doc["images"]}
        images = {
            i["file_name"]: {**i, "id": None, "coco_url": None} for i in doc["images"]
        }
        shapes = sorted(
            (names[a["image_id"]], json.dumps({**a, "id": None, "image_id": None}))
            for a in normalised(doc)["annotations"]
        )
        return images, shapes, doc["categories"]

    assert by_name(second) == by_name(first)


def test_split_redraw_ignores_the_files_splits(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    make_ground_truth(project)
    doc = export_coco(client, project)
    for image in doc["images"]:
        image["split"] = "test"
    other = _copy_project(users, project.labels)
    r = client.post(
        reverse("api-import", args=[other.pk]),
        {"as": "ground_truth", "coco": doc, "split": "redraw"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["splits_kept"] == 0
    splits = set(Item.objects.filter(project=other).values_list("split", flat=True))
    assert "train" in splits and None not in splits


def test_review_status_is_exported_and_sends_new_items_to_review(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    make_ground_truth(project)
    doc = export_coco(client, project)
    assert {i["status"] for i in doc["images"]} == {"done"}
    doc["images"][0]["status"] = "review"
    other = _copy_project(users, project.labels)
    r = import_coco(client, other, doc)
    assert r.status_code == 200 and r.json()["review"] == 1
    item = Item.objects.get(project=other, status=ItemStatus.REVIEW)
    assert item.split is None
    assert len(export_coco(client, other)["images"]) == 5
    r = client.get(
        reverse("api-export", args=[other.pk]),
        {"format": "coco", "include_review": "true"},
    )
    images = json.loads(b"".join(r.streaming_content))["images"]
    assert {i["id"]: i["status"] for i in images}[item.pk] == "review"


def test_ground_truth_keeps_its_split_and_status_whatever_the_file_says(gt):
    """The frozen test set never moves: a file that names another split or the
    review state for an item already in a split replaces its shapes only."""
    project, client, items = gt
    doc = export_coco(client, project)
    before = dict(Item.objects.filter(project=project).values_list("pk", "split"))
    other = {"train": "test", "val": "train", "test": "val"}
    for image in doc["images"]:
        image["split"] = other[image["split"]]
    doc["images"][0]["status"] = "review"
    r = import_coco(client, project, doc)
    assert r.status_code == 200, r.content
    assert r.json()["splits_frozen"] == len(doc["images"])
    assert r.json()["review"] == 0 and r.json()["splits_kept"] == 0
    after = dict(Item.objects.filter(project=project).values_list("pk", "split"))
    assert after == before
    assert set(
        Item.objects.filter(project=project).values_list("status", flat=True)
    ) == {ItemStatus.DONE}


def _square_mask(h=120, w=160):
    mask = np.zeros((h, w), dtype=np.uint8, order="F")
    mask[20:60, 30:90] = 1
    mask[80:100, 100:140] = 1
    return mask


def _one_image_doc(project, item, annotation):
    return {
        "images": [
            {"id": 1, "file_name": item.original_name, "width": 160, "height": 120}
        ],
        "categories": [{"id": 1, "name": project.labels[0]}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, **annotation}],
    }


@pytest.mark.parametrize("compressed", [True, False])
def test_rle_crowd_region_becomes_polygons(project_roles, compressed):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    (item,) = make_items(project, 1, size=(160, 120))
    rle = mask_utils.encode(_square_mask())
    if compressed:
        segmentation = {"size": [120, 160], "counts": rle["counts"].decode()}
    else:  # uncompressed: column-major run lengths starting with zeros
        flat = _square_mask().flatten(order="F")
        runs, value, count = [], 0, 0
        for pixel in flat:
            if pixel == value:
                count += 1
            else:
                runs.append(count)
                value, count = pixel, 1
        runs.append(count)
        segmentation = {"size": [120, 160], "counts": runs}
    doc = _one_image_doc(
        project,
        item,
        {"iscrowd": 1, "segmentation": segmentation, "bbox": [30, 20, 110, 80]},
    )
    r = import_coco(client, project, doc)
    assert r.status_code == 200, r.content
    assert r.json()["converted"] == {"rle_to_polygons": 1}
    polygons = Annotation.objects.filter(item=item)
    assert [a.kind for a in polygons] == ["polygon", "polygon"]
    assert sorted(round(a.area) for a in polygons) == [741, 2301]  # contour areas


def test_rle_in_a_box_only_project_becomes_its_box(project_roles):
    _, users, _ = project_roles
    project = make_project(users[Role.OWNER], name="Boxes", kinds=["box"])
    client = client_for(users[Role.OWNER])
    (item,) = make_items(project, 1, size=(160, 120))
    rle = mask_utils.encode(_square_mask())
    doc = _one_image_doc(
        project,
        item,
        {
            "iscrowd": 1,
            "segmentation": {"size": [120, 160], "counts": rle["counts"].decode()},
        },
    )
    r = import_coco(client, project, doc)
    assert r.status_code == 200, r.content
    assert r.json()["converted"] == {"rle_to_boxes": 1}
    (box,) = Annotation.objects.filter(item=item)
    assert box.kind == "box" and box.geometry["bbox"] == [30, 20, 110, 80]


def test_rle_of_the_wrong_size_is_400_and_changes_nothing(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    (item,) = make_items(project, 1, size=(160, 120))
    doc = _one_image_doc(
        project,
        item,
        {"iscrowd": 1, "segmentation": {"size": [10, 10], "counts": [100]}},
    )
    r = import_coco(client, project, doc)
    assert r.status_code == 400
    assert "RLE size [10, 10]" in json.dumps(r.json())
    assert not Annotation.objects.exists()


def test_multi_ring_polygon_becomes_several_shapes(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    (item,) = make_items(project, 1, size=(160, 120))
    rings = [[10, 10, 40, 10, 40, 40, 10, 40], [60, 60, 90, 60, 75, 90]]
    doc = _one_image_doc(
        project, item, {"segmentation": rings, "bbox": [10, 10, 80, 80]}
    )
    r = import_coco(client, project, doc)
    assert r.status_code == 200, r.content
    assert r.json()["converted"] == {"multi_ring_split": 1}
    assert Annotation.objects.filter(item=item, kind="polygon").count() == 2


def test_folder_prefix_of_another_tool_finds_the_item(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    (item,) = make_items(project, 1, size=(160, 120))
    doc = _one_image_doc(project, item, {"bbox": [1, 2, 30, 40]})
    doc["images"][0]["file_name"] = f"images/train/{item.original_name}"
    r = import_coco(client, project, doc)
    assert r.status_code == 200, r.content
    assert Annotation.objects.get(item=item).geometry["bbox"] == [1, 2, 30, 40]


def _unknown_category_doc(project, item):
    doc = _one_image_doc(project, item, {"bbox": [1, 2, 30, 40]})
    doc["categories"] = [{"id": 1, "name": "zebra"}]
    return doc


def test_unknown_categories_are_refused_by_name(project_roles):
    project, users, _ = project_roles
    client = client_for(users[Role.OWNER])
    (item,) = make_items(project, 1, size=(160, 120))
    r = import_coco(client, project, _unknown_category_doc(project, item))
    assert r.status_code == 400 and "'zebra'" in json.dumps(r.json())
    assert not Annotation.objects.exists()


def test_unknown_categories_mapped_or_added_by_owner_choice(project_roles):
    project, users, _ = project_roles
    owner = client_for(users[Role.OWNER])
    (item,) = make_items(project, 1, size=(160, 120))
    doc = _unknown_category_doc(project, item)
    url = reverse("api-import", args=[project.pk])
    body = {
        "as": "ground_truth",
        "coco": doc,
        "category_map": {"zebra": project.labels[1]},
    }
    r = owner.post(url, body, format="json")
    assert r.status_code == 200, r.content
    assert Annotation.objects.get(item=item).label == project.labels[1]

    manager = client_for(users[Role.ANNOTATION_MANAGER])
    add = {"as": "ground_truth", "coco": doc, "categories": "add"}
    assert manager.post(url, add, format="json").status_code == 403
    r = owner.post(url, add, format="json")
    assert r.status_code == 200 and r.json()["labels_added"] == ["zebra"]
    project.refresh_from_db()
    assert project.labels[-1] == "zebra"
    assert Annotation.objects.get(item=item).label == "zebra"


def test_bad_category_map_is_400(gt):
    project, client, _ = gt
    doc = export_coco(client, project)
    r = client.post(
        reverse("api-import", args=[project.pk]),
        {"as": "ground_truth", "coco": doc, "category_map": {"a": 5}},
        format="json",
    )
    assert r.status_code == 400 and "category_map" in r.json()


ints = st.integers(min_value=-5, max_value=200)
segmentations = st.one_of(
    st.fixed_dictionaries(
        {
            "size": st.one_of(st.just([120, 160]), st.lists(ints, max_size=3)),
            "counts": st.one_of(
                st.lists(ints, max_size=8),
                st.text(max_size=12),
                st.just([19200]),
                st.none(),
            ),
        }
    ),
    st.lists(st.lists(st.floats(-10, 200), max_size=9), max_size=3),
    st.dictionaries(st.text(max_size=4), ints, max_size=2),
    st.text(max_size=4),
)


@hsettings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segmentation=segmentations, crowd=st.booleans())
def test_malformed_regions_are_400_and_nothing_is_half_imported(
    gt, segmentation, crowd
):
    project, client, _ = gt
    doc = export_coco(client, project)
    before = sorted(Annotation.objects.values_list("id", "geometry"))
    doc["annotations"][-1].update(
        segmentation=segmentation, iscrowd=int(crowd), shape=None
    )
    r = import_coco(client, project, doc)
    assert r.status_code in (200, 400), r.content
    if r.status_code == 400:
        assert "annotations[" in json.dumps(r.json()["file"])
        assert sorted(Annotation.objects.values_list("id", "geometry")) == before


@pytest.mark.slow
def test_yolo_export_trains_with_plain_ultralytics_from_another_directory(
    gt, tmp_path, monkeypatch
):
    import os
    import sys
    import zipfile

    from ml.backends.ultralytics import setup_offline

    # The app's own config dir (settings.YOLO_CONFIG_DIR), unless ultralytics
    # is already imported with another: its settings path is fixed at import,
    # and the app's trainings later in this process need the app's.
    existing = os.environ.get("YOLO_CONFIG_DIR")
    if "ultralytics" in sys.modules and existing:
        setup_offline(existing)
    else:
        settings.YOLO_CONFIG_DIR.mkdir(parents=True, exist_ok=True)
        setup_offline(settings.YOLO_CONFIG_DIR)
    from ultralytics import YOLO

    project, client, _ = gt
    r = client.get(reverse("api-export", args=[project.pk]), {"format": "yolo"})
    dataset = tmp_path / "exports" / "dataset"
    zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))).extractall(dataset)
    assert "path:" not in (dataset / "data.yaml").read_text()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for data in ("../exports/dataset/data.yaml", str(dataset / "data.yaml")):
        model = YOLO("yolov8n-seg.yaml")
        model.train(
            data=data,
            epochs=1,
            # 64 (twice the stride): ultralytics refuses a final batch of one
            # image below it, which a train split of 4k + 1 images gives.
            imgsz=64,
            batch=4,
            workers=0,
            device="cpu",
            plots=False,
            val=False,
            project=str(tmp_path / "runs"),
            name="t",
            exist_ok=True,
            verbose=False,
        )
        assert (tmp_path / "runs" / "t" / "weights" / "last.pt").is_file()
