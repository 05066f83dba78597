"""A COCO file is streamed, not parsed whole (issue 13's import benchmark): the
import holds per-image state and bounded batches, reads every file exactly as
json.loads does, and stays all or nothing after rows were written."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db.models import NOT_PROVIDED

from annotate.models import Annotation
from annotate.services.imports import coco_import
from annotate.services.imports_zip import file_import
from tests.annotate._stream_memory import (
    assert_imports_as_parsed,
    assert_peak_does_not_grow,
    bare_project,
    owner_fixture,  # noqa: F401
    stored,
)

pytestmark = pytest.mark.django_db


def _document(n_images: int, per_image: int) -> dict:
    annotations = []
    for i in range(n_images):
        for k in range(per_image):
            x, y = 10 + k % 50 * 5, 20 + i % 50
            ann = {"id": len(annotations) + 1, "image_id": i + 1, "category_id": 1}
            if k % 2:
                ann["segmentation"] = [[x, y, x + 40, y, x + 20, y + 30]]
                ann["bbox"] = [x, y, 40, 30]
            else:
                ann["bbox"] = [x, y, 50.5, 40.25]
            annotations.append(ann)
    return {
        "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}],
        "images": [
            {"id": i + 1, "file_name": f"img_{i}.png", "split": "train"}
            for i in range(n_images)
        ],
        "annotations": annotations,
    }


def _import_file(project, owner, data: bytes, **options):
    return file_import(
        project=project,
        fmt="coco",
        handle=io.BytesIO(data),
        as_=options.pop("as_", "ground_truth"),
        actor=owner,
        **options,
    )


def test_a_problem_after_a_written_batch_rolls_every_row_back(owner):
    """12,000 good shapes (two batches of rows inserted) and then one bad one:
    400 naming it, and the annotations are what they were."""
    project = bare_project(owner, 3)
    doc = _document(3, 4)
    _import_file(project, owner, json.dumps(doc).encode())
    before = stored()
    big = _document(3, 4000)
    big["annotations"].append(
        {"id": 10**6, "image_id": 3, "category_id": 1, "bbox": [1, 2, 3]}
    )
    with pytest.raises(ValidationError) as caught:
        _import_file(project, owner, json.dumps(big).encode())
    assert caught.value.message_dict["file"] == [
        "annotations[12000]: bbox must be a list of 4 numbers [x, y, width, height]"
    ]
    assert stored() == before


def _odd_files(doc: dict) -> dict[str, bytes]:
    text = json.dumps(doc)
    return {
        "NaN in an ignored field": text.replace('"split"', '"area": NaN, "split"', 1),
        "NaN score": text.replace(
            '"category_id": 1', '"category_id": 1, "score": NaN', 1
        ),
        "UTF-8 BOM": b"\xef\xbb\xbf" + text.encode(),
        "escaped emoji in a name": text.replace("img_0.png", "img_0\\ud83d\\ude00.png"),
        "lone surrogate in a name": text.replace("img_1.png", "img_1\\ud800.png"),
        "integer beyond 64 bits": text.replace('"id": 1,', f'"id": {10**30},', 1),
        "float overflow": text.replace("50.5", "1e400", 1),
        "form feed between tokens": text.replace(", ", ",\x0c", 1),
        "duplicate top-level key": text[:-1] + ', "images": []}',
        "top-level list": "[" + text + "]",
        "dotted top-level key": text[:-1] + ', "images.item": [1]}',
        "empty top-level key": text[:-1] + ', "": {"images": [1]}}',
        "trailing garbage": text + " x",
        "empty file": "",
        "utf-16": text.encode("utf-16"),
        "plain": text,
    }


@pytest.mark.parametrize("case", sorted(_odd_files(_document(1, 1))))
def test_a_file_imports_exactly_as_its_parsed_document(owner, case):
    """Streamed or parsed whole, a file gives what json.loads + coco_import give:
    the same result, the same errors, the same rows."""
    assert_imports_as_parsed(
        owner,
        _odd_files(_document(3, 4))[case],
        streamed=lambda project, data: _import_file(project, owner, data),
        parsed=lambda twin, document: coco_import(
            project=twin, document=document, as_="ground_truth", actor=owner
        ),
    )


def test_import_memory_does_not_grow_with_the_file(owner):
    """Python's peak allocation during an import of 20 images: 4,000 shapes
    against 16,000 (a file four times as large, 1.6 MB). Parsed whole, the
    peak grew with the file (9.4 MB to 36 MB, 3.8x); streamed, it is the
    batches and per-image state (SQLite 1.59 to 1.67 MB, PostgreSQL 3.1 to
    4.1 MB), so it stays under 1.5x.
    tracemalloc counts every Python object, and the same code path allocates
    the same sizes on every run."""
    project = bare_project(owner, 20)
    small = json.dumps(_document(20, 200)).encode()
    large = json.dumps(_document(20, 800)).encode()
    assert_peak_does_not_grow(
        lambda data: _import_file(project, owner, data),
        small=small,
        large=large,
        first=small,
        total=16_000,
    )


def test_the_bulk_writer_fills_every_column_the_database_requires():
    """AnnotationRows writes raw INSERTs: a new field without a database default
    that it leaves out fails every import (seen: Annotation.model_name)."""
    from annotate.services.annotations import _ROW_FIELDS

    required = {
        f.name
        for f in Annotation._meta.concrete_fields
        if not f.primary_key and not f.null and f.db_default is NOT_PROVIDED
    }
    assert required <= set(_ROW_FIELDS), required - set(_ROW_FIELDS)
