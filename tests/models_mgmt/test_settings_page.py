"""The pipeline settings page: one box per strategy parameter (the registry's)
and per model and comparison key (ml.config's); what was typed stays after a
refusal, each reason stands under its box, nothing is saved; a new project has
its training settings from the start."""

import pytest
from django.test import Client
from django.urls import reverse

from models_mgmt.models import TrainingSettings
from tests.factories import UserFactory, make_project

FORM = {
    "strategy": "entropy",
    "cold_start_strategy": "diversity",
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
    typed = {**FORM, "mc_epochs": "-1", "split_seed": "x", "kinds": ""}
    body = client.post(url, typed).content.decode()
    assert 'data-testid="error-split_seed">an integer' in body
    # What was typed, not the saved value.
    assert 'name="mc_epochs" id="id_mc_epochs" value="-1"' in body
    typed = {**FORM, "mc_epochs": "-1"}
    body = client.post(url, typed).content.decode()
    assert 'data-testid="error-mc_epochs">must be from 1 to 10000' in body


def test_the_settings_page_saves_both_apps_rows(owner_client):
    client, project = owner_client
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    typed = {**FORM, "strategy": "margin", "trigger_every_n_approved": "12"}
    assert client.post(url, typed).status_code == 302
    project.pipeline.refresh_from_db()
    assert project.pipeline.strategy == "margin"
    assert TrainingSettings.objects.get(project=project).trigger_every_n_approved == 12


def _saved(project):
    from annotate.models import Pipeline

    pipeline = Pipeline.objects.get(project=project)
    training = TrainingSettings.objects.get(project=project)
    return (
        pipeline.strategy,
        pipeline.strategy_params,
        training.model_config,
        training.comparison_config,
    )


def test_every_parameter_and_key_has_its_own_box_with_its_default(owner_client):
    from ml import config as ml_config
    from ml.selection import param_specs

    client, project = owner_client
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    body = client.get(url).content.decode()
    strategy = project.pipeline.strategy
    assert body.count('data-testid="strategy-param-row"') == len(param_specs(strategy))
    for prefix, fields in (
        ("mc_", ml_config.MODEL_FIELDS),
        ("cc_", ml_config.COMPARISON_FIELDS),
    ):
        for spec in ml_config.field_specs(fields):
            assert f'name="{prefix}{spec["key"]}"' in body
    assert 'name="model_config"' not in body and '<textarea name="strategy' not in body
    # Choices are menus with the default first; numbers are text boxes.
    menu = '<select name="mc_optimizer" id="id_mc_optimizer">'
    assert menu + '<option value="" selected>default (auto)</option>' in body
    assert '<select name="cc_no_class_regression"' in body and "default (false)" in body
    assert 'placeholder="320"' in body and "a multiple of 32 from 32 to 4,096" in body


def test_a_refused_save_shows_every_reason_under_its_box_and_keeps_the_text(
    owner_client,
):
    client, project = owner_client
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    before = _saved(project)
    typed = {
        **FORM,
        "strategy": "hybrid",
        "sp_control_share": "0.9",
        "sp_alpha": "lots",
        "sp_method": "<b>",
        "mc_epochs": "0",
        "mc_imgsz": "33",
        "mc_lr0": "nan",
        "mc_optimizer": "Fast",
        "mc_device": "gpu please",
        "cc_min_delta": "abc",
        "cc_no_class_regression": "maybe",
    }
    response = client.post(url, typed)
    assert response.status_code == 400
    body = response.content.decode()
    for name, reason in {
        "sp_control_share": "must be a number from 0.0 to 0.5",
        "sp_alpha": "must be a number",
        "sp_method": "must be one of",
        "mc_epochs": "must be from 1 to 10000",
        "mc_imgsz": "must be a multiple of 32",
        "mc_lr0": "must be a finite number",
        "mc_optimizer": "must be one of auto, SGD",
        "mc_device": "must be cpu, mps, cuda",
        "cc_min_delta": "must be a number",
        "cc_no_class_regression": "must be one of true, false",
    }.items():
        assert f'data-testid="error-{name}">{reason}' in body, name
    for name in (
        "sp_control_share",
        "sp_alpha",
        "mc_epochs",
        "mc_imgsz",
        "cc_min_delta",
    ):
        assert f'name="{name}" id="id_{name}" value="{typed[name]}"' in body, name
    assert 'value="gpu please"' in body and "<b>" not in body
    assert "Nothing was saved: " in body
    assert "model configuration imgsz: must be a multiple of 32" in body
    assert "strategy parameter control_share: must be" in body
    assert _saved(project) == before  # nothing saved


def test_filled_boxes_are_saved_as_typed_values_and_empty_ones_left_out(
    owner_client,
):
    client, project = owner_client
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    typed = {
        **FORM,
        "strategy": "entropy",
        "sp_batch_size": "20",
        "sp_control_share": "0.2",
        "sp_aggregate": "mean",
        "sp_alpha": "0.3",  # not a parameter of entropy: ignored
        "mc_epochs": "auto",
        "mc_imgsz": "640",
        "mc_optimizer": "Adam",
        "mc_lr0": "0.002",
        "mc_batch": "",
        "cc_no_class_regression": "true",
        "cc_metric": "map50",
    }
    assert client.post(url, typed).status_code == 302
    strategy, params, model, comparison = _saved(project)
    assert strategy == "entropy"
    assert (params["batch_size"], params["control_share"], params["aggregate"]) == (
        20,
        0.2,
        "mean",
    )
    assert "alpha" not in params
    assert model == {"epochs": "auto", "imgsz": 640, "optimizer": "Adam", "lr0": 0.002}
    assert comparison == {"no_class_regression": True, "metric": "map50"}
    body = client.get(url).content.decode()
    assert 'name="mc_imgsz" id="id_mc_imgsz" value="640"' in body
    assert 'name="mc_batch" id="id_mc_batch" value=""' in body
    assert '<option value="true" selected>true</option>' in body
    assert 'name="sp_batch_size" id="id_sp_batch_size" value="20"' in body


def test_the_strategy_preview_shows_its_boxes_saved_or_empty(owner_client):
    client, project = owner_client
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    typed = {**FORM, "strategy": "entropy", "sp_batch_size": "20"}
    assert client.post(url, typed).status_code == 302
    own = client.get(url, {"preview": "strategy", "strategy": "entropy"})
    assert (
        'name="sp_batch_size" id="id_sp_batch_size" value="20"' in own.content.decode()
    )
    other = client.get(url, {"preview": "strategy", "strategy": "random"}).content
    other = other.decode()
    assert other.count('data-testid="strategy-param-row"') == 1
    assert 'name="sp_batch_size" id="id_sp_batch_size" value=""' in other
    assert 'placeholder="50"' in other


def test_the_labels_form_refuses_removing_a_label_in_use_and_saves_a_new_one(
    owner_client,
):
    """action=labels: a label an annotation still uses cannot go (400, the
    service's reason under the labels box and in the message, the labels as
    they were); an added label is saved."""
    from annotate.models import Project
    from annotate.services.annotations import annotations_replace, shapes_validate
    from tests.factories import make_items

    client, project = owner_client
    (item,) = make_items(project, 1)
    shapes = [{"kind": "box", "label": "circle", "bbox": [5, 5, 20, 20]}]
    annotations_replace(
        item=item, shapes=shapes_validate(item=item, shapes=shapes), author=None
    )
    url = reverse("models_mgmt:project-settings", args=[project.pk])
    r = client.post(url, {"action": "labels", "labels": "rectangle, triangle"})
    assert r.status_code == 400
    body = r.content.decode()
    reason = "labels in use cannot be removed: circle"
    assert f"Nothing was saved: labels: {reason}" in body
    assert body.count(reason) >= 2  # the message and the box's error
    labels = ["circle", "rectangle", "triangle"]
    assert Project.objects.get(pk=project.pk).labels == labels
    r = client.post(
        url, {"action": "labels", "labels": "circle, rectangle, triangle, x"}
    )
    assert r.status_code == 302
    assert Project.objects.get(pk=project.pk).labels == [*labels, "x"]
