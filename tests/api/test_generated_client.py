"""The API schema as a product: a Python client generated from the live schema
(openapi-python-client) imports whole and drives label -> review -> export
against a live server with a token; binary responses come back as bytes."""

import importlib
import io
import json
import os
import pkgutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest
from rest_framework.authtoken.models import Token

from alweb.roles import Role
from tests.factories import UserFactory, add_member, make_items, make_project

PACKAGE = "alweb_generated_client"
# The generator parses only JSON and octet-stream bodies: image/* and zip bodies
# are bytes to it (the schema keeps their real media types).
CONFIG = """\
content_type_overrides:
  "image/*": application/octet-stream
  application/zip: application/octet-stream
"""


def _generate(tmp_path: Path, schema: bytes) -> Path:
    (tmp_path / "schema.json").write_bytes(schema)
    (tmp_path / "config.yaml").write_text(CONFIG)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            "schema.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Warning" not in result.stdout, result.stdout[-3000:]
    return tmp_path / PACKAGE


@pytest.fixture
def generated(tmp_path, live_server):
    """(client package, token client for the owner, project, items)."""
    owner = UserFactory(username="client-owner")
    reviewer = add_member(
        project := make_project(owner, name="Client", labels=["circle"]),
        Role.REVIEWER,
        UserFactory(username="client-reviewer"),
    )
    items = make_items(project, 2)
    tokens = {u: Token.objects.create(user=u).key for u in (owner, reviewer)}
    schema = httpx.get(
        f"{live_server.url}/api/schema/",
        headers={
            "Authorization": f"Token {tokens[owner]}",
            "Accept": "application/vnd.oai.openapi+json",
        },
    )
    assert schema.status_code == 200, schema.text[:500]
    _generate(tmp_path, schema.content)
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module(PACKAGE)
        yield package, tokens, owner, reviewer, project, items
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _modules(package) -> list[str]:
    return [
        m.name for m in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
    ]


def _client(package, live_server, token):
    return package.AuthenticatedClient(
        base_url=live_server.url, token=token, prefix="Token"
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_generated_client_imports_whole_and_drives_the_loop(
    generated, live_server, settings
):
    package, tokens, owner, reviewer, project, items = generated
    names = _modules(package)
    failed = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - every failure is listed
            failed[name] = repr(exc)
    assert len(names) > 100 and not failed, failed

    v1 = importlib.import_module(f"{PACKAGE}.api.v1")
    models = importlib.import_module(f"{PACKAGE}.models")

    def call(operation: str, **kwargs):
        return importlib.import_module(f"{v1.__name__}.{operation}").sync_detailed(
            **kwargs
        )

    as_owner = _client(package, live_server, tokens[owner])
    as_reviewer = _client(package, live_server, tokens[reviewer])

    page = call("projects_list", client=as_owner).parsed
    assert [p.name for p in page.results] == ["Client"]
    assert page.results[0].role == "owner"
    pipeline = call("pipeline_get", project_id=project.pk, client=as_owner).parsed
    assert isinstance(pipeline, models.Pipeline) and pipeline.split.train == 0.8

    # Label: claim, look at the image (bytes), submit a box.
    claim = models.TaskNextInputRequest(kind=models.KindEnum.LABEL)
    task = call("tasks_next", project_id=project.pk, client=as_owner, body=claim)
    assert task.status_code == 200, task.content[:300]
    task = task.parsed
    image = call("items_image", item_id=task.item.id, client=as_owner)
    assert image.status_code == 200
    assert image.parsed.payload.read().startswith(b"\x89PNG")
    box = models.ShapeInputRequest(
        kind=models.ShapeKindEnum.BOX, label="circle", bbox=[4.0, 4.0, 20.0, 16.0]
    )
    done = call(
        "tasks_submit",
        task_id=task.id,
        client=as_owner,
        body=models.SubmitInputRequest(annotations=[box]),
    )
    assert done.status_code == 200, done.content[:300]
    assert done.parsed.item.status == models.ItemStatusEnum.REVIEW

    # Review: the reviewer claims it and approves it as it is.
    claim = models.TaskNextInputRequest(kind=models.KindEnum.REVIEW)
    review = call("tasks_next", project_id=project.pk, client=as_reviewer, body=claim)
    assert review.status_code == 200, review.content[:300]
    assert [a.label for a in review.parsed.annotations] == ["circle"]
    approved = call(
        "tasks_approve",
        task_id=review.parsed.id,
        client=as_reviewer,
        body=models.ApproveInputRequest(),
    )
    assert approved.status_code == 200, approved.content[:300]
    assert approved.parsed.item.status == models.ItemStatusEnum.DONE

    # A typed error body: the reviewer may not export.
    refused = call(
        "export",
        project_id=project.pk,
        client=as_reviewer,
        format_=models.ExportFormat.COCO,
    )
    assert refused.status_code == 403 and isinstance(refused.parsed, models.Error)

    # Export: COCO and YOLO as files (bytes), then a background export.
    coco = call(
        "export",
        project_id=project.pk,
        client=as_owner,
        format_=models.ExportFormat.COCO,
    )
    assert coco.status_code == 200
    document = json.loads(coco.parsed.payload.read())
    assert [a["category_id"] for a in document["annotations"]] == [1]
    yolo = call(
        "export",
        project_id=project.pk,
        client=as_owner,
        format_=models.ExportFormat.YOLO,
    )
    with zipfile.ZipFile(io.BytesIO(yolo.parsed.payload.read())) as zf:
        assert "data.yaml" in zf.namelist()
    settings.ALWEB_EXPORT_SYNC_MAX_ITEMS = 0
    job = call(
        "export",
        project_id=project.pk,
        client=as_owner,
        format_=models.ExportFormat.COCO,
    )
    assert job.status_code == 202 and isinstance(job.parsed, models.ExportJob)
    status = call(
        "export_job_get", project_id=project.pk, job_id=job.parsed.job, client=as_owner
    ).parsed
    assert status.status == models.RunStatusEnum.SUCCEEDED
    download = call(
        "export_download",
        project_id=project.pk,
        job_id=job.parsed.job,
        client=as_owner,
    )
    assert json.loads(download.parsed.payload.read()) == document
