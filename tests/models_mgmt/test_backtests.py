"""Backtests on a project's own ground truth, from the API and the pages
(scripted fast backend; the real loop runs in tests/ml/test_backtest.py)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from models_mgmt.services.backtests import backtest_dir
from runs.models import Job
from tests.models_mgmt.test_strategies_live import _project, varied  # noqa: F401
from tests.models_mgmt.test_triggers_and_promotion import approve
from tests.runs.test_lifecycle import queued_only


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.django_db(transaction=True)
def test_a_backtest_runs_on_the_ground_truth_and_its_pages_show_the_curves(varied):  # noqa: F811
    project = _project()
    approve(project, 24)  # 12 train, 6 val, 6 test
    api = _api(project.owner)
    url = reverse("api-project-backtests", args=[project.pk])
    r = api.post(
        url,
        {"strategies": ["hybrid"], "initial": 4, "batch": 3, "rounds": 2, "seeds": 2},
        format="json",
    )
    assert r.status_code == 202, r.content
    job = Job.objects.get(pk=r.json()["id"])
    assert (job.kind, job.status) == ("backtest", "succeeded"), job.error
    result = api.get(f"/api/v1/runs/{job.pk}/").json()["result"]
    assert "dir" not in result  # no server paths in the API
    strategies = result["strategies"]
    assert set(strategies) == {"random", "hybrid"}
    curve = strategies["hybrid"]["curve"]
    assert [p["images"] for p in curve] == [4, 7, 10]
    assert "efficiency" in strategies["hybrid"]
    assert len(strategies["hybrid"]["paired"]) == 3
    folder = backtest_dir(job.pk)
    assert {p.name for p in folder.iterdir()} == {
        "curves.csv",
        "curves.svg",
        "summary.md",
    }

    client = APIClient()
    client.force_login(project.owner)
    page = client.get(reverse("models_mgmt:backtest", args=[project.pk, job.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="backtest-plot"' in body and "hybrid" in body
    svg = client.get(
        reverse("models_mgmt:backtest-file", args=[project.pk, job.pk, "curves.svg"])
    )
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg["X-Content-Type-Options"] == "nosniff"
    content = b"".join(svg.streaming_content)
    assert content.lstrip().startswith(b"<?xml") and b"<script" not in content
    listing = client.get(reverse("models_mgmt:backtests", args=[project.pk]))
    assert f"backtest {job.pk}" in listing.content.decode()
    bad = client.get(
        reverse("models_mgmt:backtest-file", args=[project.pk, job.pk, "summary.md"])
    )
    assert bad.status_code == 404  # only the listed files are served


@pytest.mark.django_db(transaction=True)
def test_bad_backtests_are_refused_with_the_field_named(varied):  # noqa: F811
    project = _project()
    api = _api(project.owner)
    url = reverse("api-project-backtests", args=[project.pk])
    approve(project, 4)  # 2 train, 1 val, 1 test
    for body, field in (
        ({"strategies": ["oracle"]}, "strategies"),
        ({"rounds": 0}, "rounds"),
        ({"initial": 3, "batch": 1, "rounds": 1}, "initial"),  # 4 > 3 in the pool
    ):
        r = api.post(url, body, format="json")
        assert r.status_code == 400 and field in r.json(), (body, r.content)
    assert not Job.objects.filter(kind="backtest").exists()
    approve(project, 20, start=10)
    with queued_only():
        first = api.post(url, {"initial": 4, "batch": 2, "rounds": 1}, format="json")
        second = api.post(url, {"initial": 4, "batch": 2, "rounds": 1}, format="json")
    assert (first.status_code, second.status_code) == (202, 409)


@pytest.mark.django_db
def test_the_backtest_form_keeps_what_was_typed_and_says_why(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users["annotation_manager"])
    url = reverse("models_mgmt:backtests", args=[project.pk])
    r = client.post(
        url, {"strategies": ["hybrid"], "initial": 50, "batch": 10, "rounds": 3,
              "seeds": 2},
    )  # fmt: skip
    assert r.status_code == 400
    body = r.content.decode()
    assert "approved train and val items exist" in body
    assert 'value="50"' in body
    client.force_login(users["reviewer"])
    assert client.get(url).status_code == 403
