"""YOLO and Pascal VOC zips are streamed into the COCO import (issue 13): the
label files are read one member at a time as the annotations are taken, so an
import holds per-image state and bounded batches, not the whole archive as
one document; a problem in a late file still rolls every row back."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from annotate.models import Annotation
from annotate.services.imports_zip import file_import
from tests.annotate._stream_memory import (
    assert_peak_does_not_grow,
    bare_project,
    owner_fixture,  # noqa: F401
    stored,
)

pytestmark = pytest.mark.django_db


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def _yolo(n_images: int, per_image: int) -> bytes:
    members = {"data.yaml": "names: [car, person]\n"}
    for i in range(n_images):
        lines = [
            f"{k % 2} {0.1 + k % 40 * 0.02:.3f} {0.2 + i % 30 * 0.01:.3f} 0.05 0.04"
            for k in range(per_image)
        ]
        members[f"labels/train/img_{i}.txt"] = "\n".join(lines) + "\n"
    return _zip(members)


def _voc(n_images: int, per_image: int) -> bytes:
    stems = "".join(f"img_{i}\n" for i in range(n_images))
    members = {"ImageSets/Main/train.txt": stems}
    for i in range(n_images):
        objects = "".join(
            f"<object><name>{('car', 'person')[k % 2]}</name><bndbox>"
            f"<xmin>{10 + k % 40}</xmin><ymin>{20 + i % 30}</ymin>"
            f"<xmax>{60 + k % 40}</xmax><ymax>{70 + i % 30}</ymax></bndbox></object>"
            for k in range(per_image)
        )
        members[f"Annotations/img_{i}.xml"] = (
            f"<annotation><filename>img_{i}.png</filename><size><width>640</width>"
            f"<height>480</height></size>{objects}</annotation>"
        )
    return _zip(members)


def _import(project, owner, fmt: str, data: bytes):
    return file_import(
        project=project,
        fmt=fmt,
        handle=io.BytesIO(data),
        as_="ground_truth",
        actor=owner,
    )


@pytest.mark.parametrize("fmt, make", [("yolo", _yolo), ("voc", _voc)])
def test_dataset_import_memory_does_not_grow_with_the_archive(owner, fmt, make):
    """Python's peak allocation during an import of 150 shapes an image: 40
    images against 160 (6,000 shapes against 24,000: both fill a batch of
    rows). Converted whole into one COCO document first, the peak grew with
    the archive (YOLO 3.6 to 11 MB, VOC 4.0 to 17 MB, 3-4x); streamed, it is the
    batches, one member and per-image state: under 1.5x."""
    project = bare_project(owner, 160)
    small, large = make(40, 150), make(160, 150)
    assert_peak_does_not_grow(
        lambda data: _import(project, owner, fmt, data),
        small=small,
        large=large,
        first=small,
        total=24_000,
    )


def test_a_bad_line_in_the_last_yolo_file_rolls_every_row_back(owner):
    """Three files of 4,000 shapes each (rows written in batches) and a bad
    last line: 400 naming the member and line, nothing changed."""
    project = bare_project(owner, 3)
    _import(project, owner, "yolo", _yolo(3, 2))
    before = stored()
    members = {"data.yaml": "names: [car, person]\n"}
    line = "0 0.5 0.5 0.1 0.1\n"
    members["labels/train/img_0.txt"] = line * 4000
    members["labels/train/img_1.txt"] = line * 4000
    members["labels/train/img_2.txt"] = line * 4000 + "7 0.5 0.5 0.1 0.1\n"
    with pytest.raises(ValidationError) as caught:
        _import(project, owner, "yolo", _zip(members))
    assert caught.value.message_dict["file"] == [
        "labels/train/img_2.txt line 4001: class '7' is not 0..1"
    ]
    assert stored() == before


def test_yolo_problems_are_listed_in_file_order(owner):
    """A file matching no item and a bad line in an earlier file: both, in the
    order of the files, as when the archive was converted whole."""
    project = bare_project(owner, 2)
    members = {
        "data.yaml": "names: [car, person]\n",
        "labels/train/img_0.txt": "0 0.5 0.5 0.1\n",
        "labels/train/img_1.txt": "0 0.5 0.5 0.1 0.1\n",
        "labels/train/zz_missing.txt": "0 0.5 0.5 0.1 0.1\n",
    }
    with pytest.raises(ValidationError) as caught:
        _import(project, owner, "yolo", _zip(members))
    assert caught.value.message_dict["file"] == [
        "labels/train/img_0.txt line 1: a line is `class cx cy w h` or "
        "`class x1 y1 x2 y2 x3 y3 ...`",
        "labels/train/zz_missing.txt: 0 items match 'zz_missing'",
    ]
    assert not Annotation.objects.exists()
