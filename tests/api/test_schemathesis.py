"""Bounded schemathesis run over the whole of /api/schema/: zero 5xx.

Path ids point at a real project and item half of the time so requests get past
the 404s; bodies and query strings are generated from the schema (and beyond it).
Deterministic: a fixed schemathesis seed, derandomized hypothesis, and a stable
hash (crc32, not the per-process salted `hash`) for picking the real ids.
"""

import json
import os
import zlib

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core import NotSet

from alweb.roles import Role

RAW = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))
# An explicit seed: without one schemathesis draws a fresh random seed per run.
schema = schemathesis.openapi.from_dict(RAW, config=SchemathesisConfig(seed=0))


def body_key(case) -> str:
    """The body as text that is the same in every process.

    Not ``repr(case.body)``: a case without a body holds NotSet, whose repr
    carries its memory address.
    """
    if isinstance(case.body, NotSet):
        return ""
    try:
        return json.dumps(case.body, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(case.body)


def use_real_ids(case) -> bool:
    """Half of the cases, the same half in every process (PYTHONHASHSEED-proof)."""
    return zlib.crc32(body_key(case).encode()) % 2 == 0


@pytest.fixture
def wsgi_app():
    # As Django's test client does: keep the test transaction's connection open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_answers_5xx(case, project_roles, wsgi_app):
    from rest_framework.authtoken.models import Token

    from tests.factories import make_items

    project, users, _ = project_roles
    if not hasattr(project, "_items"):
        project._items = make_items(project, 1)
    token, _ = Token.objects.get_or_create(user=users[Role.OWNER])
    params = case.path_parameters or {}
    if use_real_ids(case):
        for key, value in (
            ("project_id", project.pk),
            ("item_id", project._items[0].pk),
        ):
            if key in params:
                params[key] = value
    response = case.call(
        app=wsgi_app,
        headers={"Authorization": f"Token {token.key}", "Host": "localhost"},
    )
    record = os.environ.get("ALWEB_RECORD_CASES")  # tests/test_determinism.py
    if record:
        with open(record, "a") as fh:
            row = [case.method, case.formatted_path, body_key(case)]
            fh.write(json.dumps([*row, response.status_code]) + "\n")
    assert response.status_code < 500, (
        case.method,
        case.formatted_path,
        response.status_code,
        response.text[:500],
    )


@pytest.mark.django_db
def test_task_next_with_an_item_id_beyond_sqlite_integer_is_400(project_roles):
    from rest_framework.test import APIClient

    project, users, _ = project_roles
    client = APIClient(raise_request_exception=True)
    client.force_authenticate(users[Role.OWNER])
    response = client.post(
        f"/api/v1/projects/{project.pk}/tasks/next/",
        {"kind": "review", "exclude": [2**63]},
        format="json",
    )
    assert response.status_code == 400
