"""The schema types every body: no bare object responses, typed error bodies on
every operation where they occur, JSON request bodies unless files are sent; and
`?format=` is the export's, never DRF's renderer choice."""

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from alweb.roles import Role
from tests.api.helpers import client_for
from tests.api.test_io import make_ground_truth

ERROR_BODIES = {
    "400": "#/components/schemas/ValidationError",
    "401": "#/components/schemas/Error",
    "403": "#/components/schemas/Error",
    "404": "#/components/schemas/Error",
    "409": "#/components/schemas/Conflict",
    "413": "#/components/schemas/Error",
}
FILE_ENDPOINTS = {"items_upload", "models_register", "segmenter_upload"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def _bare(schema_part: dict) -> bool:
    return (
        schema_part.get("type") == "object"
        and "properties" not in schema_part
        and "additionalProperties" not in schema_part
    ) or schema_part == {}


def test_no_response_is_a_bare_object(schema):
    bare = [
        (method, path, code, media)
        for path, method, op in _operations(schema)
        for code, response in op["responses"].items()
        for media, content in (response.get("content") or {}).items()
        if _bare(content.get("schema", {}))
    ]
    assert not bare


def test_every_operation_documents_its_errors_with_typed_bodies(schema):
    problems = []
    for path, method, op in _operations(schema):
        codes = set(op["responses"])
        if "401" not in codes:
            problems.append((method, path, "no 401"))
        if "{" in path and "404" not in codes:
            problems.append((method, path, "no 404"))
        if "requestBody" in op and "400" not in codes:
            problems.append((method, path, "no 400"))
        for code, ref in ERROR_BODIES.items():
            response = op["responses"].get(code)
            if response is None:
                continue
            refs = {c["schema"].get("$ref") for c in response["content"].values()}
            if refs != {ref}:
                problems.append((method, path, code, refs))
    assert not problems
    conflicts = {
        op["operationId"]
        for _, _, op in _operations(schema)
        if "409" in op["responses"]
    }
    assert {"tasks_submit", "tasks_approve", "train", "members_add"} <= conflicts
    too_large = {
        op["operationId"]
        for _, _, op in _operations(schema)
        if "413" in op["responses"]
    }
    assert {"items_upload", "import_coco"} <= too_large


def test_request_bodies_are_json_unless_the_endpoint_takes_files(schema):
    media = {
        op["operationId"]: set(op["requestBody"]["content"])
        for _, _, op in _operations(schema)
        if "requestBody" in op
    }
    assert len(media) >= 12
    for operation, types in media.items():
        if operation in FILE_ENDPOINTS:
            assert "multipart/form-data" in types, operation
        else:
            assert types == {"application/json"}, (operation, types)


def test_binary_responses_are_typed_as_binary(schema):
    ops = {op["operationId"]: op for _, _, op in _operations(schema)}
    for operation in ("items_image", "export", "export_download"):
        content = ops[operation]["responses"]["200"]["content"]
        for media, body in content.items():
            assert body["schema"] == {"type": "string", "format": "binary"}, (
                operation,
                media,
            )


@pytest.mark.django_db
def test_format_query_is_the_export_format_not_a_renderer(project_roles):
    project, users, _ = project_roles
    make_ground_truth(project, n=2)
    client = client_for(users[Role.OWNER])
    url = reverse("api-import", args=[project.pk])
    # Was a misleading 404 (DRF took ?format= for a renderer that does not exist).
    r = client.post(url + "?format=yolo", {"as": "bogus"}, format="json")
    assert r.status_code == 400 and "as" in r.json()
    export = reverse("api-export", args=[project.pk])
    r = client.get(export, {"format": "yolo"})
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    r = client.get(export, {"format": "json"})
    assert r.status_code == 400 and "format" in r.json()
