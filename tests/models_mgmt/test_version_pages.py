"""The model-version pages: the versions table, a version page with its charts,
two versions compared, roll back, weights download, and bad input."""

import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from annotate.models import Event
from models_mgmt import charts
from models_mgmt.models import Comparison, Evaluation, ModelVersion
from models_mgmt.services import backend as backend_service
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from models_mgmt.services.versions import model_version_promote, model_version_roll_back
from tests.factories import UserFactory, make_project
from tests.models_mgmt import fake_backend
from tests.models_mgmt.test_triggers_and_promotion import approve

LABELS = ["car", "dog <b>"]


def test_nice_ticks_are_round_and_cover_the_range():
    assert charts.nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert charts.nice_ticks(1, 50)[0] <= 1 and charts.nice_ticks(1, 50)[-1] >= 50
    flat = charts.nice_ticks(3, 3)  # one value: a range around it, not a crash
    assert flat[0] < 3 < flat[-1] and len(flat) > 2


def test_line_chart_has_axes_ticks_series_and_escapes_labels():
    svg = charts.line_chart(
        {"<loss>": [(1, 2.0), (2, 1.0), (3, float("nan"))]},
        title="a & b",
        x_label="epoch",
        y_label="loss",
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'class="axis axis-x"' in svg and 'class="axis axis-y"' in svg
    assert "&lt;loss&gt;" in svg and "<loss>" not in svg and "a &amp; b" in svg
    assert svg.count("<circle") == 2  # the NaN point is left out
    assert ">epoch</text>" in svg and ">loss</text>" in svg


def test_charts_without_data_say_so():
    assert "no data yet" in charts.line_chart({}, title="t", x_label="x", y_label="y")
    assert "no confusion matrix" in charts.heatmap([[1, 2]], ["a"], title="t")


def test_bar_chart_draws_negative_deltas_below_zero():
    svg = charts.bar_chart(
        ["a", "b"], {"d": [0.2, -0.1]}, title="t", x_label="c", y_label="Δ"
    )
    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 2 and heights[0] > heights[1] > 0


def test_training_stores_every_epoch_for_the_curves(settings, transactional_db):
    owner = UserFactory(username="curve-owner")
    project = make_project(owner, name="Curves")
    pipeline_update(
        project=project,
        actor=owner,
        data={"split": {"train": 0.5, "val": 0.25, "test": 0.25, "seed": 3}},
    )
    project.owner = owner
    settings.ALWEB_ML_BACKEND = "tests.models_mgmt.curve_backend"
    backend_service.get_backend.cache_clear()
    fake_backend.SCORES.clear()
    try:
        approve(project, 8)
        version = training_start(project=project, actor=project.owner)
        version.refresh_from_db()
    finally:
        backend_service.get_backend.cache_clear()
    assert version.status == "done"
    assert [h["epoch"] for h in version.history] == [1, 2, 3]
    assert version.history[2]["box_loss"] == pytest.approx(2 / 3)
    assert version.history[1]["map50"] == pytest.approx(0.4)


def _version(project, number, *, best=False, parent=None, map50=0.5, weights=True):
    now = timezone.now()
    version = ModelVersion.objects.create(
        project=project,
        number=number,
        name=f"v{number}",
        parent=parent,
        status="done",
        class_names=list(project.labels),
        train_item_ids=list(range(1, 4 + number)),
        val_item_ids=[1, 2],
        config={"epochs": 3, "imgsz": 320},
        epochs=3,
        epoch=3,
        history=[
            {"epoch": e, "box_loss": 1 / e, "map50": map50 * e / 3} for e in (1, 2, 3)
        ],
        metrics={
            "map50": map50,
            "map50_95": map50 / 2,
            "precision": 0.7,
            "recall": 0.6,
            "per_class": {label: {"map50": map50} for label in project.labels},
            "confusion_matrix": [[3, 1, 0], [0, 2, 1], [1, 0, 0]],
            "confusion_labels": [*project.labels, "background"],
        },
        started_at=now - timedelta(minutes=3, seconds=5),
        finished_at=now,
    )
    if weights:
        version.weights.save(f"v{number}.pt", ContentFile(b"\x80weights"), save=True)
    if best:
        ModelVersion.objects.filter(pk=version.pk).update(is_best=True)
    Evaluation.objects.create(
        project=project, model_version=version, test_item_ids=[7, 8], metrics={}
    )
    return version


@pytest.fixture
def versions(db):
    owner = UserFactory(username="dash-owner")
    project = make_project(owner, name="Dash", labels=LABELS)
    v1 = _version(project, 1, map50=0.4)
    v2 = _version(project, 2, parent=v1, map50=0.55)
    project.owner = owner
    return project, v1, v2


def test_models_table_names_versions_and_shows_every_column(client, versions):
    project, v1, v2 = versions
    model_version_promote(version=v2, actor=project.owner)
    client.force_login(project.owner)
    body = client.get(reverse("models_mgmt:models", args=[project.pk])).content.decode()
    row = body[body.index('data-testid="version-row-v2"') :].split("</tr>")[0]
    assert 'data-testid="best-badge"' in row and ">v1</a>" in row  # parent by name
    assert "5 items" in row and "0.550" in row and "0.275" in row
    assert "0.700" in row and "0.600" in row and "3 min 05 s" in row
    assert f"/models/v{v2.number}/" in row


def test_version_page_draws_curves_per_class_and_confusion(client, versions):
    project, v1, v2 = versions
    client.force_login(project.owner)
    response = client.get(reverse("models_mgmt:version", args=[project.pk, 2]))
    assert response.status_code == 200
    body = response.content.decode()
    for testid in (
        "chart-losses",
        "chart-val-metrics",
        "chart-per-class",
        "chart-confusion",
    ):
        svg = body[body.index(f'data-testid="{testid}"') :].split("</svg>")[0]
        assert "axis axis-x" in svg and "axis axis-y" in svg, testid
    assert "dog &lt;b&gt;" in body and "dog <b>" not in body
    assert "train: 5 items" in body and "val: 2 items" in body
    assert "test: 2 items" in body
    assert "&quot;imgsz&quot;: 320" in body
    assert 'data-testid="weights-download"' in body


def test_unknown_versions_and_versions_of_other_projects_are_404(client, versions):
    project, v1, v2 = versions
    other = make_project(project.owner, name="Other")
    _version(other, 7)
    client.force_login(project.owner)
    for number in (99, 7, 0, 999999999999):
        url = reverse("models_mgmt:version", args=[project.pk, number])
        assert client.get(url).status_code == 404, number
        weights = reverse("models_mgmt:version-weights", args=[project.pk, number])
        assert client.get(weights).status_code == 404, number
    compare = reverse("models_mgmt:compare", args=[project.pk])
    assert client.get(compare, {"a": 1, "b": 7}).status_code == 404
    assert client.get(compare, {"a": "x", "b": 2}).status_code == 404


def test_comparing_a_version_with_itself_is_400_with_a_message(client, versions):
    project, v1, v2 = versions
    client.force_login(project.owner)
    url = reverse("models_mgmt:compare", args=[project.pk])
    response = client.get(url, {"a": 2, "b": 2})
    assert response.status_code == 400
    assert "v2 compared with itself" in response.content.decode()
    response = client.get(url, {"a": 2})
    assert response.status_code == 400 and "choose two" in response.content.decode()


def test_compare_shows_every_metric_with_its_delta(client, versions):
    project, v1, v2 = versions
    client.force_login(project.owner)
    url = reverse("models_mgmt:compare", args=[project.pk])
    body = client.get(url, {"a": 1, "b": 2}).content.decode()
    table = body[body.index('data-testid="compare-metrics"') :].split("</table>")[0]
    assert "+0.150" in table and "+0.075" in table and "0.000" in table
    per_class = body[body.index('data-testid="compare-per-class"') :]
    assert "dog &lt;b&gt;" in per_class.split("</table>")[0]
    for testid in ("chart-compare-per-class", "chart-confusion-a", "chart-confusion-b"):
        assert f'data-testid="{testid}"' in body


def test_roll_back_walks_back_through_the_promotions(versions):
    project, v1, v2 = versions
    v3 = _version(project, 3, parent=v2, map50=0.6)
    for v in (v1, v2, v3):
        model_version_promote(version=v, actor=project.owner)
    assert model_version_roll_back(project=project, actor=project.owner) == v2
    assert model_version_roll_back(project=project, actor=project.owner) == v1
    v1.refresh_from_db()
    assert v1.is_best
    with pytest.raises(Exception, match="no best model before v1 is recorded"):
        model_version_roll_back(project=project, actor=project.owner)
    reasons = list(
        Event.objects.filter(project=project, verb="model_promoted")
        .order_by("id")
        .values_list("data__reason", flat=True)
    )
    assert reasons == ["manual", "manual", "manual", "roll back", "roll back"]


def test_roll_back_page_post_and_refusal_keep_the_best(client, versions):
    project, v1, v2 = versions
    client.force_login(project.owner)
    url = reverse("models_mgmt:roll-back", args=[project.pk])
    response = client.post(url, follow=True)
    assert "no best model to roll back" in response.content.decode()
    model_version_promote(version=v1, actor=project.owner)
    model_version_promote(version=v2, actor=project.owner)
    response = client.post(url, follow=True)
    assert "Rolled back: v1 is the best model." in response.content.decode()
    assert ModelVersion.objects.get(project=project, is_best=True) == v1


def test_weights_download_streams_the_file(client, versions):
    project, v1, v2 = versions
    client.force_login(project.owner)
    response = client.get(reverse("models_mgmt:version-weights", args=[project.pk, 2]))
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == b"\x80weights"
    assert "Dash-v2.pt" in response["Content-Disposition"]
    ModelVersion.objects.filter(pk=v1.pk).update(weights="")
    response = client.get(reverse("models_mgmt:version-weights", args=[project.pk, 1]))
    assert response.status_code == 404


def test_comparison_history_lists_candidate_incumbent_and_promote(client, versions):
    project, v1, v2 = versions
    Comparison.objects.create(
        project=project,
        candidate=v2,
        incumbent=v1,
        config={"metric": "map50", "min_delta": 0.01},
        metric="map50",
        candidate_value=0.55,
        incumbent_value=0.4,
        winner="candidate",
        reason="higher map50",
    )
    client.force_login(project.owner)
    body = client.get(reverse("models_mgmt:compare", args=[project.pk])).content
    table = body.decode().split('data-testid="comparison-history"')[1]
    assert "min_delta=0.01" in table and "higher map50" in table
    assert "Promote v2" in table and "?a=1&amp;b=2" in table


def test_learning_curve_has_a_point_per_promoted_version(client, versions):
    project, v1, v2 = versions
    _version(project, 3, parent=v2, map50=0.3)  # never promoted: no point
    model_version_promote(version=v1, actor=project.owner)
    model_version_promote(version=v2, actor=project.owner)
    client.force_login(project.owner)
    body = client.get(reverse("models_mgmt:compare", args=[project.pk])).content
    svg = body.decode().split('data-testid="chart-learning-curve"')[1]
    svg = svg.split("</svg>")[0]
    assert "axis axis-x" in svg and "ground-truth items trained on" in svg
    assert svg.count("<circle") == 4  # two versions, mAP50 and mAP50-95
    assert "mAP50: 6, 0.4</title>" in svg and "mAP50: 7, 0.55</title>" in svg


def test_many_classes_get_a_wider_chart_and_slanted_labels():
    names = [f"class-{i:02d}-long" for i in range(30)]
    svg = charts.bar_chart(
        names, {"AP50": [0.5] * 30}, title="t", x_label="class", y_label="AP50"
    )
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    assert width > 560 and 'transform="rotate(-30' in svg
    few = charts.bar_chart(["a", "b"], {"AP50": [0.1, 0.2]}, title="t", x_label="c",
                           y_label="AP50")  # fmt: skip
    assert "rotate(-30" not in few


def test_a_base_model_page_says_no_data_instead_of_empty_charts(client, versions):
    project, v1, v2 = versions
    ModelVersion.objects.create(
        project=project, number=3, name="base-3", is_base=True, status="done"
    )
    client.force_login(project.owner)
    response = client.get(reverse("models_mgmt:version", args=[project.pk, 3]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("no data yet") == 3 and "no confusion matrix" in body
    assert "No weights file." in body and "No run recorded" in body


def test_the_api_gives_a_versions_history_per_epoch(versions):
    from rest_framework.test import APIClient

    project, v1, v2 = versions
    client = APIClient()
    client.force_authenticate(project.owner)
    body = client.get(f"/api/v1/models/{v2.pk}/").json()
    assert [h["epoch"] for h in body["history"]] == [1, 2, 3]
    assert body["history"][0]["box_loss"] == 1.0
