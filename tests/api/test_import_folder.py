"""The import_folder management command."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from annotate.models import Annotation, Item
from tests.api.helpers import png, zip_bytes

pytestmark = pytest.mark.django_db


def test_import_folder_with_coco(project_roles, tmp_path):
    project, _, _ = project_roles
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.png").write_bytes(png(1))
    (tmp_path / "sub" / "b.png").write_bytes(png(2))
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    (tmp_path / "more.zip").write_bytes(zip_bytes({"c.png": png(3)}))
    coco = {
        "images": [{"id": 1, "file_name": "a.png"}],
        "categories": [{"id": 1, "name": project.labels[0]}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]}
        ],
    }
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    out = io.StringIO()
    call_command(
        "import_folder",
        project.pk,
        str(tmp_path),
        coco=str(tmp_path / "coco.json"),
        stdout=out,
    )
    text = out.getvalue()
    assert "3 items created, 1 skipped" in text and "4/4" in text
    assert Item.objects.filter(project=project).count() == 3
    assert Annotation.objects.filter(item__original_name="a.png").count() == 1
    assert Item.objects.get(original_name="a.png").status == "done"


def test_import_folder_refuses_bad_coco(project_roles, tmp_path):
    project, _, _ = project_roles
    (tmp_path / "coco.json").write_text('{"images": 1}')
    with pytest.raises(CommandError):
        call_command(
            "import_folder",
            project.pk,
            str(tmp_path),
            coco=str(tmp_path / "coco.json"),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    with pytest.raises(CommandError):
        call_command("import_folder", 99999, str(tmp_path), stdout=io.StringIO())
