"""The engines themselves: the tests run on the database DATABASE_URL names, the
start-up checks accept PostgreSQL, and what PostgreSQL does differently from
SQLite (JSON key order, NUL characters) never reaches a page or a 500."""

import os

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from alweb.checks import assert_runtime_settings, sqlite_problems
from alweb.roles import Role
from annotate.models import Annotation, Membership, Pipeline, Project, Task
from models_mgmt.models import ModelStatus, ModelVersion, TrainingSettings
from tests.factories import make_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
NUL = "a\x00b"


def test_the_tests_run_on_the_engine_database_url_names():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        assert connection.vendor == "postgresql"
        # pytest-django's test database of this run, never the one named.
        assert connection.settings_dict["NAME"].startswith("test_")
        assert connection.settings_dict["NAME"] != url.rsplit("/", 1)[-1]
    else:
        assert not url and connection.vendor == "sqlite"


def test_the_start_up_checks_pass_on_this_engine():
    if connection.vendor != "sqlite":
        assert sqlite_problems() == []
    assert_runtime_settings()  # raises ImproperlyConfigured on a problem
    call_command("check", fail_level="ERROR")


def test_postgresql_compiles_no_query():
    """jit=off on the app's connections (alweb/settings.py): JIT cost an
    approval's split count 8.5 ms of a 46 ms query at 100k items."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's JIT")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_losses_show_in_the_same_order_on_every_engine(project_roles):
    """PostgreSQL's jsonb keeps object keys sorted by length, SQLite keeps them as
    written: the models page sorts them itself."""
    project, users, _ = project_roles
    ModelVersion.objects.create(
        project=project,
        number=1,
        name="v1",
        status=ModelStatus.DONE,
        losses={"seg_loss": 1.0, "box_loss": 2.0, "map50": 0.5},
    )
    client = Client()
    client.force_login(users[Role.OWNER])
    page = client.get(f"/projects/{project.pk}/models/").content.decode()
    assert "box_loss 2.000, map50 0.500, seg_loss 1.000" in page


BAD_WRITES = [
    ("post", "/api/v1/projects/", {"name": NUL, "labels": ["a"], "kinds": ["box"]}),
    ("post", "/api/v1/projects/", {"name": "n", "labels": [NUL], "kinds": ["box"]}),
    ("patch", "/api/v1/projects/{p}/", {"description": NUL}),
    ("post", "/api/v1/projects/{p}/members/", {"username": NUL, "role": "annotator"}),
    ("patch", "/api/v1/projects/{p}/pipeline/", {"strategy_params": {NUL: 1}}),
    ("patch", "/api/v1/projects/{p}/pipeline/", {"model_config": {"device": NUL}}),
    ("patch", "/api/v1/projects/{p}/pipeline/", {"triggers": {"cron": NUL}}),
    ("post", "/api/v1/projects/{p}/models/", {"architecture": NUL}),
    ("post", "/api/v1/projects/{p}/tasks/next/", {"kind": NUL}),
]
BAD_READS = [
    "/api/v1/projects/{p}/items/?status=" + NUL,
    "/api/v1/projects/{p}/items/?ordering=" + NUL,
    "/api/v1/projects/{p}/runs/?kind=" + NUL,
    "/api/v1/projects/{p}/tasks/peek/?kind=" + NUL,
    "/api/v1/projects/{p}/export/?format=" + NUL,
]


def _snapshot(project):
    project.refresh_from_db()
    pipeline = Pipeline.objects.get(project=project)
    training = TrainingSettings.objects.get(project=project)
    return (
        project.name,
        project.description,
        list(project.labels),
        pipeline.strategy_params,
        training.model_config,
        training.trigger_cron,
        Project.objects.count(),
        Membership.objects.count(),
        ModelVersion.objects.count(),
    )


def test_nul_characters_are_refused_with_400_and_change_nothing(project_roles):
    """PostgreSQL refuses NUL in text and jsonb (a 500 if it got that far);
    RELIABILITY.md item 31. Every path stops it at validation, on both engines."""
    project, users, _ = project_roles
    make_items(project, 2)
    api = APIClient()
    api.force_authenticate(users[Role.OWNER])
    before = _snapshot(project)
    for method, url, body in BAD_WRITES:
        response = getattr(api, method)(url.format(p=project.pk), body, format="json")
        assert response.status_code == 400, (url, body, response.content[:300])
    for url in BAD_READS:
        response = api.get(url.format(p=project.pk))
        assert response.status_code == 400, (url, response.content[:300])
    claim = api.post(
        f"/api/v1/projects/{project.pk}/tasks/next/", {"kind": "label"}, format="json"
    )
    task = claim.json()["id"]
    bad_shape = {"kind": "box", "label": NUL, "bbox": [1, 1, 5, 5]}
    for verb, path in (("put", "draft"), ("post", "submit")):
        response = getattr(api, verb)(
            f"/api/v1/tasks/{task}/{path}/", {"annotations": [bad_shape]}, format="json"
        )
        assert response.status_code == 400, response.content[:300]
    # Keys the shape format does not have are dropped, not stored.
    extra = {"kind": "box", "label": "circle", "bbox": [1, 1, 5, 5], "note": NUL}
    saved = api.put(
        f"/api/v1/tasks/{task}/draft/", {"annotations": [extra]}, format="json"
    )
    assert saved.status_code == 200, saved.content[:300]
    assert _snapshot(project) == before
    assert "note" not in Task.objects.get(pk=task).draft[0]
    assert not Annotation.objects.filter(item__project=project).exists()
    html = Client()
    html.force_login(users[Role.OWNER])
    page = html.get(f"/projects/{project.pk}/items/?status={NUL}&split={NUL}")
    assert page.status_code == 200  # the filter falls back, with a message
    login = Client().post("/accounts/login/", {"username": NUL, "password": NUL})
    assert login.status_code == 200 and login.context["form"].errors
