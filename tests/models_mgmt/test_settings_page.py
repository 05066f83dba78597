"""The pipeline settings page: what was typed stays after a refusal, each reason
stands under its box; a new project has its training settings from the start."""

import pytest
from django.test import Client
from django.urls import reverse

from models_mgmt.models import TrainingSettings
from tests.factories import UserFactory, make_project

FORM = {
    "strategy": "entropy",
    "cold_start_strategy": "diversity",
    "strategy_params": "{}",
    "model_config": "{}",
    "comparison_config": "{}",
    "trigger_kpi": "{}",
    "trigger_cron": "",
    "trigger_every_n_approved": "",
    "split_train": "0.8",
    "split_val": "0.1",
    "split_test": "0.1",
    "split_seed": "0",
}


@pytest.fixture
def owner_client(db):
    owner = UserFactory(username="settings-owner")
    project = make_project(owner, name="Settings")
    client = Client()
    client.force_login(owner)
    return client, project


def test_a_new_project_has_its_training_settings(owner_client):
    _, project = owner_client
    settings = TrainingSettings.objects.get(project=project)
    assert (settings.trigger_cron, settings.model_config) == ("", {})


def test_a_refused_cron_keeps_what_was_typed_under_its_box(owner_client):
    client, project = owner_client
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    typed = {**FORM, "trigger_cron": "0 0 30 2 *", "trigger_every_n_approved": "7"}
    r = client.post(url, typed)
    assert r.status_code == 400
    body = r.content.decode()
    assert 'value="0 0 30 2 *"' in body and 'value="7"' in body
    assert 'data-testid="error-trigger_cron">cron: never fires' in body
    assert TrainingSettings.objects.get(project=project).trigger_cron == ""


def test_each_reason_stands_under_its_own_box(owner_client):
    client, project = owner_client
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    typed = {**FORM, "model_config": '{"epochs": -1}', "split_seed": "x", "kinds": ""}
    body = client.post(url, typed).content.decode()
    assert 'data-testid="error-split_seed">an integer' in body
    # The JSON as typed, not the saved value.
    assert "{&quot;epochs&quot;: -1}" in body
    typed = {**FORM, "model_config": '{"epochs": -1}'}
    body = client.post(url, typed).content.decode()
    assert 'data-testid="error-model_config">' in body and "epochs" in body


def test_the_settings_page_saves_both_apps_rows(owner_client):
    client, project = owner_client
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    typed = {**FORM, "strategy": "margin", "trigger_every_n_approved": "12"}
    assert client.post(url, typed).status_code == 302
    project.pipeline.refresh_from_db()
    assert project.pipeline.strategy == "margin"
    assert TrainingSettings.objects.get(project=project).trigger_every_n_approved == 12
