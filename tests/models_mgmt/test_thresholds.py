"""Error-analysis thresholds are project settings (issue 14): the pipeline
resource reads and changes them (defaults until set), bad values are 400 with
the field and the reason and change nothing, the settings page shows each with
its default and keeps what was typed, and the code uses the project's values
(OOD filter and drift panel, error buckets, label-error flags)."""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Event, Item, Pipeline
from annotate.selectors_items import item_list
from annotate.selectors_mining import drift_weeks
from ml.thresholds import DEFAULTS
from models_mgmt.models import Evaluation, EvaluationError, TrainingSettings
from models_mgmt.services.label_errors import label_errors_check
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from tests.factories import UserFactory, make_items, make_project
from tests.models_mgmt.test_error_buckets import scripted  # noqa: F401 (fixture)
from tests.models_mgmt.test_label_errors_flow import planted  # noqa: F401


@pytest.fixture
def owner_project(db):
    owner = UserFactory(username="thr-owner")
    project = make_project(owner, name="Thresholds")
    api = APIClient()
    api.force_authenticate(owner)
    return owner, project, api


def _url(project):
    return f"/api/v1/projects/{project.pk}/pipeline/"


def test_the_api_shows_the_defaults_and_changes_only_what_is_named(owner_project):
    owner, project, api = owner_project
    body = api.get(_url(project)).json()
    assert body["thresholds"] == DEFAULTS
    r = api.patch(
        _url(project),
        {"thresholds": {"ood": 0.9, "error_match_iou": 0.6}},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["thresholds"] == {**DEFAULTS, "ood": 0.9, "error_match_iou": 0.6}
    assert Pipeline.objects.get(project=project).ood_threshold == 0.9
    settings = TrainingSettings.objects.get(project=project)
    assert settings.error_match_iou == 0.6
    assert settings.label_error_min_score == DEFAULTS["label_error_min_score"]
    event = Event.objects.filter(project=project, verb="pipeline_updated").last()
    assert event.data["fields"] == ["error_match_iou", "ood_threshold"]


@pytest.mark.parametrize(
    ("thresholds", "reason"),
    [
        ({"ood": 1.5}, "ood: must be a number from 0 to 1"),
        ({"ood": "high"}, "ood: must be a number from 0 to 1"),
        ({"ood": True}, "ood: must be a number from 0 to 1"),
        ({"error_match_iou": 0}, "error_match_iou: must be a number above 0 to 1"),
        ({"nearness": 0.5}, "nearness: unknown threshold"),
        (
            {"error_background_iou": 0.5},
            "error_background_iou: must be below error_match_iou (0.5)",
        ),
        ([0.5], "must be an object of"),
    ],
)
def test_a_bad_threshold_is_400_with_the_field_and_nothing_changes(
    owner_project, thresholds, reason
):
    _, project, api = owner_project
    r = api.patch(
        _url(project), {"thresholds": thresholds, "consensus_share": 0.5}, format="json"
    )
    assert r.status_code == 400
    assert reason in r.json()["thresholds"][0]
    assert api.get(_url(project)).json()["thresholds"] == DEFAULTS
    assert Pipeline.objects.get(project=project).consensus_share == 0.0


def test_the_page_shows_each_default_and_keeps_what_was_typed(client, owner_project):
    owner, project, _ = owner_project
    client.force_login(owner)
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    body = client.get(url).content.decode()
    assert 'data-testid="thresholds-form"' in body
    for name, default in DEFAULTS.items():
        assert f'data-testid="threshold-{name}"' in body
        assert f'name="{name}" value="{default}"' in body
    typed = {
        "action": "thresholds",
        "ood": "0.8",
        "error_match_iou": "0.3",
        "error_background_iou": "0.4",
        "drift_warn_share": "lots",
    }
    r = client.post(url, typed)
    assert r.status_code == 400
    body = r.content.decode()
    assert 'value="lots"' in body and 'value="0.4"' in body
    assert 'data-testid="error-drift_warn_share">a number from 0 to 1' in body
    assert Pipeline.objects.filter(project=project, ood_threshold=0.8).count() == 0
    typed["drift_warn_share"] = "0.5"
    r = client.post(url, typed)
    assert r.status_code == 400
    assert 'data-testid="error-error_background_iou">must be below' in (
        r.content.decode()
    )
    typed["error_background_iou"] = "0.2"
    r = client.post(url, typed)
    assert r.status_code == 302
    pipeline = Pipeline.objects.get(project=project)
    assert (pipeline.ood_threshold, pipeline.drift_warn_share) == (0.8, 0.5)
    settings = TrainingSettings.objects.get(project=project)
    assert (settings.error_match_iou, settings.error_background_iou) == (0.3, 0.2)
    # An empty box keeps the saved value.
    r = client.post(url, {"action": "thresholds", "ood": ""})
    assert r.status_code == 302
    assert Pipeline.objects.get(project=project).ood_threshold == 0.8


def test_the_ood_filter_and_the_drift_panel_use_the_projects_values(owner_project):
    owner, project, _ = owner_project
    items = make_items(project, 3)
    when = datetime(2026, 11, 24, 12, tzinfo=UTC)
    for item, ood in zip(items, (0.5, 0.9, 0.97), strict=True):
        Item.objects.filter(pk=item.pk).update(
            created_at=when, score_components={"ood": ood}
        )

    def flagged():
        return sorted(i.pk for i in item_list(project=project, ood="1"))

    assert flagged() == [items[2].pk]
    [week] = drift_weeks(project=project, today=date(2026, 11, 30))
    assert (week.flagged, week.warn) == (1, True)  # 1/3 > 0.2
    pipeline_update(
        project=project,
        actor=owner,
        data={"thresholds": {"ood": 0.85, "drift_warn_share": 0.7}},
    )
    assert flagged() == [items[1].pk, items[2].pk]
    [week] = drift_weeks(project=project, today=date(2026, 11, 30))
    assert (week.flagged, week.warn) == (2, False)  # 2/3 is not above 0.7


def test_error_buckets_use_the_projects_confidence_and_record_it(scripted):  # noqa: F811
    project, test, shapes_of = scripted
    # The scripted v1 predicts at confidence 0.9: above 0.95 nothing is kept,
    # so every shape of the test items is missed.
    pipeline_update(
        project=project,
        actor=project.owner,
        data={"thresholds": {"error_min_confidence": 0.95, "error_match_iou": 0.6}},
    )
    v1 = training_start(project=project, actor=project.owner)
    evaluation = Evaluation.objects.get(model_version=v1)
    assert evaluation.error_stats["min_confidence"] == 0.95
    assert evaluation.error_stats["iou"] == 0.6
    shapes = sum(len(s) for s in shapes_of.values())
    missed = EvaluationError.objects.filter(evaluation=evaluation, kind="missed")
    assert missed.count() == shapes


def test_label_error_flags_use_the_projects_minimum_score(planted):  # noqa: F811
    project, owner, held, plants = planted
    version = training_start(project=project, actor=owner)
    assert version.pk
    default = label_errors_check(project=project)
    assert default["flagged"] > 0
    # Every candidate's score is at most the model's confidence (0.9).
    pipeline_update(
        project=project,
        actor=owner,
        data={"thresholds": {"label_error_min_score": 0.95}},
    )
    assert label_errors_check(project=project)["flagged"] == 0
