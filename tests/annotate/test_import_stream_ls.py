"""A Label Studio export is streamed into the COCO import (issue 13): its tasks
are read with ijson one at a time, in passes (image names; labels, images and
every problem; then the regions as they are taken), never held as one list
or one converted document; a file reads exactly as json.loads reads it, and
a problem in a late task still rolls every row back."""

import io
import json
import zipfile

import pytest
from django.core.exceptions import ValidationError

from annotate.models import Annotation
from annotate.services.imports_zip import file_import
from tests.annotate._stream_memory import (
    assert_imports_as_parsed,
    assert_peak_does_not_grow,
    bare_project,
    owner_fixture,  # noqa: F401
    stored,
)

pytestmark = pytest.mark.django_db


def _rect(label: str, x: float, y: float, **extra) -> dict:
    return {
        "original_width": 640,
        "original_height": 480,
        "image_rotation": 0,
        "value": {
            "x": x,
            "y": y,
            "width": 7.5,
            "height": 8.25,
            "rotation": 0,
            "rectanglelabels": [label],
        },
        "id": f"r{x}-{y}",
        "from_name": "label",
        "to_name": "image",
        "type": "rectanglelabels",
        **extra,
    }


def _poly(label: str, x: float, y: float) -> dict:
    return {
        "original_width": 640,
        "original_height": 480,
        "value": {
            "points": [[x, y], [x + 6, y], [x + 3, y + 5]],
            "closed": True,
            "polygonlabels": [label],
        },
        "id": f"p{x}-{y}",
        "from_name": "label",
        "to_name": "image",
        "type": "polygonlabels",
    }


def _tasks(n_tasks: int, per_task: int) -> list[dict]:
    tasks = []
    for i in range(n_tasks):
        regions = [
            (_poly if k % 2 else _rect)(
                ("car", "person")[k % 2], 1 + k % 40 * 2, 1 + i % 30
            )
            for k in range(per_task)
        ]
        tasks.append(
            {
                "id": i + 1,
                "data": {"image": f"/data/upload/3/{i:08x}-img_{i}.png"},
                "annotations": [
                    {"id": i + 1, "was_cancelled": False, "result": regions}
                ],
                "predictions": [
                    {"model_version": "v1", "score": 0.5, "result": regions[:1]}
                ],
            }
        )
    return tasks


def _import(project, owner, data: bytes, as_="ground_truth"):
    return file_import(
        project=project,
        fmt="label_studio",
        handle=io.BytesIO(data),
        as_=as_,
        actor=owner,
    )


def test_label_studio_import_memory_does_not_grow_with_the_file(owner):
    """Python's peak allocation during an import of 150 regions a task: 40
    tasks against 160 (6,000 shapes against 24,000: both fill a batch of
    rows; a file four times as large, 5.9 MB). Parsed whole and converted
    into one COCO document, the peak grew with the file; streamed, it is the
    batches, one task and per-task state: under 1.5x (SQLite: 1.7 to 2.1 MB;
    the code before streaming: 11.4 to 42 MB, 3.7x)."""
    project = bare_project(owner, 160)
    small = json.dumps(_tasks(40, 150)).encode()
    large = json.dumps(_tasks(160, 150)).encode()
    # First use (imports, caches, statements) is the large file: every item
    # gets its split (drawn once: reading the labels of items new to ground
    # truth is per item).
    assert_peak_does_not_grow(
        lambda data: _import(project, owner, data),
        small=small,
        large=large,
        first=large,
        total=24_000,
    )


def test_a_bad_region_in_the_last_task_rolls_every_row_back(owner):
    """Three tasks of 4,000 regions (rows written in batches) and one bad
    region at the end: 400 naming it, nothing changed."""
    project = bare_project(owner, 3)
    _import(project, owner, json.dumps(_tasks(3, 2)).encode())
    before = stored()
    tasks = _tasks(3, 4000)
    tasks[2]["annotations"][0]["result"].append(
        {"type": "keypointlabels", "value": {"x": 1, "y": 2}}
    )
    with pytest.raises(ValidationError) as caught:
        _import(project, owner, json.dumps(tasks).encode())
    assert caught.value.message_dict["file"] == [
        "tasks[2].annotations[0].result[4000]: region type 'keypointlabels' is "
        "not imported"
    ]
    assert stored() == before


def _odd_files(tasks: list) -> dict[str, bytes]:
    text = json.dumps(tasks)
    return {
        "NaN in an ignored field": text.replace('"id": 1,', '"id": NaN,', 1),
        "NaN coordinate": text.replace('"x": 1,', '"x": NaN,', 1),
        "UTF-8 BOM": b"\xef\xbb\xbf" + text.encode(),
        "escaped emoji in a name": text.replace("img_0.png", "img_0\\ud83d\\ude00.png"),
        "lone surrogate in a name": text.replace("img_1.png", "img_1\\ud800.png"),
        "integer beyond 64 bits": text.replace('"id": 1,', f'"id": {10**30},', 1),
        "float overflow": text.replace("7.5", "1e400", 1),
        "form feed between tokens": text.replace(", ", ",\x0c", 1),
        "invalid UTF-8": text.encode().replace(b"img_2", b"img_\xff2", 1),
        "an object, not a list": '{"tasks": ' + text + "}",
        "a task that is not an object": text[:-1] + ", 7]",
        "trailing garbage": text + " x",
        "two documents": text + " " + text,
        "empty file": "",
        "empty list": "[]",
        "utf-16": text.encode("utf-16"),
        "plain": text,
    }


@pytest.mark.parametrize("case", sorted(_odd_files(_tasks(1, 1))))
def test_a_file_imports_exactly_as_its_parsed_document(owner, case):
    """Streamed or parsed whole, a file gives what json.loads and the import of
    the parsed tasks give: the same result, the same errors, the same rows."""
    assert_imports_as_parsed(
        owner,
        _odd_files(_tasks(3, 4))[case],
        streamed=lambda project, data: _import(project, owner, data),
        parsed=lambda twin, document: file_import(
            project=twin,
            fmt="label_studio",
            document=document,
            as_="ground_truth",
            actor=owner,
        ),
    )


def test_predictions_and_the_zip_form_stream_the_same_regions(owner):
    """The export as predictions (each task's last prediction, its score) and
    inside a zip (its images already items: matched, not created) give the
    rows a plain import of the same tasks gives."""
    project, twin = bare_project(owner, 4, "zip"), bare_project(owner, 4, "plain")
    tasks = _tasks(4, 6)
    data = json.dumps(tasks).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export.json", data)
    for as_ in ("ground_truth", "predictions"):
        zipped = file_import(
            project=project,
            fmt="label_studio",
            handle=io.BytesIO(buffer.getvalue()),
            as_=as_,
            actor=owner,
        )
        plain = _import(twin, owner, data, as_=as_)
        assert zipped == {**plain, "items_created": 0}
        assert stored(project) == stored(twin)
    assert Annotation.objects.filter(source="model").count() == 2 * 4
    assert set(
        Annotation.objects.filter(source="model").values_list("confidence", flat=True)
    ) == {0.5}
