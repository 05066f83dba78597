"""The settings page's reference and live help: the strategy's parameters with
the registry's defaults, the configuration keys with what each accepts, and the
cron schedule in words with its next runs (htmx partials of the same view)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from alweb.roles import Role
from ml import config as ml_config
from ml.selection import STRATEGIES, param_reference
from models_mgmt.forms import setting_text
from models_mgmt.validators import cron_preview
from tests.factories import UserFactory, add_member, make_project

NOW = datetime(2026, 12, 1, 16, 40, tzinfo=UTC)


@pytest.fixture
def page(db):
    owner = UserFactory(username="help-owner")
    project = make_project(owner, name="Help")
    client = Client()
    client.force_login(owner)
    return client, project, reverse("models_mgmt:project-settings", args=[project.pk])


def test_the_page_lists_every_parameter_and_key_with_its_default(page):
    client, _project, url = page
    body = client.get(url).content.decode()
    for key, default, allowed, help_text in param_reference("hybrid"):
        assert (
            f'data-testid="help-sp_{key}">default <code>{default}</code>; '
            f"{escape(allowed)}; {escape(help_text)}" in body
        )
    for prefix, fields in (
        ("mc", ml_config.MODEL_FIELDS),
        ("cc", ml_config.COMPARISON_FIELDS),
    ):
        for key, default, allowed in ml_config.field_reference(fields):
            shown = setting_text(default)
            assert (
                f'data-testid="help-{prefix}_{key}">default <code>{shown}</code>; '
                f"{escape(allowed)}" in body
            )
    assert "No schedule" in body


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_the_strategy_partial_follows_the_choice(page, strategy):
    client, _project, url = page
    resp = client.get(url, {"preview": "strategy", "strategy": strategy},
                      headers={"HX-Request": "true"})  # fmt: skip
    body = resp.content.decode()
    assert resp.status_code == 200 and "<html" not in body
    assert body.count('data-testid="strategy-param-row"') == len(
        STRATEGIES[strategy].defaults
    )


def test_an_unknown_strategy_or_preview_is_not_an_error(page):
    client, _project, url = page
    resp = client.get(url, {"preview": "strategy", "strategy": "<nope>"})
    assert resp.status_code == 200 and b"strategy-param-row" not in resp.content
    assert b"&lt;nope&gt;" not in resp.content
    # An unknown preview gets the whole page.
    assert b"<html" in client.get(url, {"preview": "other"}).content


def test_the_cron_partial_says_the_schedule_in_words_and_its_next_runs(page):
    client, _project, url = page
    body = client.get(url, {"preview": "cron", "trigger_cron": "0 3 * * *"}).content
    body = body.decode()
    assert 'data-testid="cron-words">At 03:00</strong> (UTC)' in body
    assert body.count("<li><time") == 3
    refused = client.get(url, {"preview": "cron", "trigger_cron": "0 0 30 2 *"})
    assert refused.status_code == 200
    assert b"never fires" in refused.content and b"<time" not in refused.content


def test_a_refused_save_keeps_the_typed_cron_and_previews_it(page):
    client, project, url = page
    from tests.models_mgmt.test_settings_page import FORM

    resp = client.post(url, {**FORM, "trigger_cron": "0 0 31 4 *"})
    assert resp.status_code == 400
    body = resp.content.decode()
    assert 'value="0 0 31 4 *"' in body
    assert 'data-testid="cron-problem">cron: never fires' in body


def test_an_annotator_cannot_read_the_settings_help(page):
    client, project, url = page
    client.force_login(add_member(project, Role.ANNOTATOR))
    assert (
        client.get(url, {"preview": "cron", "trigger_cron": "0 3 * * *"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("expr", "words", "first"),
    [
        ("0 3 * * *", "At 03:00", NOW.replace(day=2, hour=3, minute=0)),
        ("*/15 * * * *", "Every 15 minutes", NOW.replace(minute=45)),
        (
            "0 0 1 * *",
            "At 00:00, on day 1 of the month",
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_cron_preview(expr, words, first):
    preview = cron_preview(expr, now=NOW)
    assert preview.problem is None and preview.words == words
    assert preview.next_runs[0] == first
    assert len(preview.next_runs) == 3
    assert all(
        b - a > timedelta(0)
        for a, b in zip(preview.next_runs, preview.next_runs[1:], strict=False)
    )


@pytest.mark.parametrize("expr", ["0 0 30 2 *", "0 0 1 * * 5", "bad", "61 * * * *"])
def test_cron_preview_of_a_schedule_that_cannot_be_saved(expr):
    preview = cron_preview(expr, now=NOW)
    assert preview.problem and preview.problem.startswith("cron:")
    assert preview.next_runs == ()
