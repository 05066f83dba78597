"""One rule for YOLO label lines, in the training dataset (ml.datasets) and in the
YOLO export zip: a shape with no area inside the image is left out."""

import io
import zipfile

import pytest

from annotate.models import Annotation, Item
from annotate.services.exports import yolo_write
from annotate.services.labeling import items_make_ground_truth
from ml.datasets import write_yolo_dataset, yolo_label_line
from ml.types import BoxShape, GroundTruthImage, PolygonShape
from tests.factories import UserFactory, make_items, make_project

INSIDE = BoxShape("circle", (10.0, 10.0, 20.0, 20.0))
OUTSIDE = BoxShape("circle", (200.0, 10.0, 20.0, 20.0))  # the image is 96 x 72
OUTSIDE_POLYGON = PolygonShape("circle", ((120.0, 0.0), (130.0, 0.0), (125.0, 9.0)))
ON_EDGE = BoxShape("circle", (96.0, 0.0, 5.0, 5.0))


@pytest.mark.parametrize("task", ["detect", "segment"])
def test_shapes_without_area_in_the_image_give_no_line(task):
    assert yolo_label_line(INSIDE, 0, 96, 72, task=task).startswith("0 ")
    for shape in (OUTSIDE, OUTSIDE_POLYGON, ON_EDGE):
        assert yolo_label_line(shape, 0, 96, 72, task=task) is None


@pytest.mark.django_db
@pytest.mark.parametrize("kinds", [["box"], ["box", "polygon"]])
def test_the_export_and_the_training_dataset_write_the_same_lines(tmp_path, kinds):
    owner = UserFactory(username="yolo-owner")
    project = make_project(owner, name="Yolo", labels=["circle"], kinds=kinds)
    (item,) = make_items(project, 1)
    # Stored shapes are clipped on save; these come as from an older database.
    for shape in (INSIDE, OUTSIDE, OUTSIDE_POLYGON):
        geometry = (
            {"bbox": list(shape.bbox)}
            if isinstance(shape, BoxShape)
            else {"points": [list(p) for p in shape.points]}
        )
        kind = "box" if isinstance(shape, BoxShape) else "polygon"
        Annotation.objects.create(
            item=item, kind=kind, label="circle", geometry=geometry
        )
    items_make_ground_truth(project=project, item_ids=[item.pk])
    item = Item.objects.get(pk=item.pk)

    buffer = io.BytesIO()
    assert yolo_write(project=project, fileobj=buffer) == 1
    with zipfile.ZipFile(buffer) as zf:
        (label_name,) = [n for n in zf.namelist() if n.startswith("labels/")]
        exported = zf.read(label_name).decode().splitlines()

    task = "segment" if "polygon" in kinds else "detect"
    image = GroundTruthImage(
        path=item.file.path,
        width=item.width,
        height=item.height,
        shapes=(INSIDE, OUTSIDE, OUTSIDE_POLYGON),
        split="train",
    )
    data_yaml = write_yolo_dataset([image], ["circle"], tmp_path / "ds", task=task)
    (label_file,) = (data_yaml.parent / "labels" / "train").iterdir()
    trained = label_file.read_text().splitlines()
    assert exported == trained and len(exported) == 1
