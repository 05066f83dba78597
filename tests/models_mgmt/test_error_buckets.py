"""Model errors by pattern: each evaluation stores its matched detections; the
version page counts them per kind x class and slice, each count opening its
items; the compare page shows what a new version fixed and introduced and the
items where two versions disagree most; the API lists the buckets.

The model is scripted (fake_backend.DETECT): v1 never predicts a triangle (the
planted failure), v2 finds the triangles but calls every circle a rectangle."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotate.models import Item
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.labeling import items_make_ground_truth
from annotate.services.tags import items_tag
from ml.types import Detection
from models_mgmt.models import Evaluation, EvaluationError, ModelVersion
from models_mgmt.selectors_errors import error_summary, errors_compare
from models_mgmt.services import backend as backend_service
from models_mgmt.services.errors import ERROR_MIN_CONFIDENCE
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.services.training import training_start
from tests.factories import UserFactory, make_items, make_project
from tests.models_mgmt import fake_backend

CIRCLE, TRIANGLE, RECTANGLE = (5, 5, 20, 20), (40, 30, 20, 20), (65, 5, 20, 20)


def _shapes(i: int) -> list[dict]:
    """Every item has a circle; odd items a triangle; every third a rectangle."""
    shapes = [{"kind": "box", "label": "circle", "bbox": list(CIRCLE)}]
    if i % 2:
        shapes.append({"kind": "box", "label": "triangle", "bbox": list(TRIANGLE)})
    if i % 3 == 0:
        shapes.append({"kind": "box", "label": "rectangle", "bbox": list(RECTANGLE)})
    return shapes


def _v1(shapes):
    """Exact boxes, except that a triangle is never predicted."""
    return [
        Detection(s["label"], 0.9, (0.9, 0.0, 0.0), tuple(s["bbox"]))
        for s in shapes
        if s["label"] != "triangle"
    ]


def _v2(shapes):
    """Every shape found, but a circle is called a rectangle."""
    return [
        Detection(
            "rectangle" if s["label"] == "circle" else s["label"],
            0.8,
            (0.8, 0.0, 0.0),
            tuple(s["bbox"]),
        )
        for s in shapes
    ]


@pytest.fixture
def scripted(settings, transactional_db):
    owner = UserFactory(username="err-owner")
    project = make_project(owner, name="Errors")
    pipeline_update(
        project=project,
        actor=owner,
        data={
            "split": {"train": 0.5, "val": 0.2, "test": 0.3, "seed": 5},
            "comparison_config": {"min_test_items": 1},
        },
    )
    project.owner = owner
    items = make_items(project, 20)
    by_path = {}
    for i, item in enumerate(items):
        shapes = _shapes(i)
        annotations_replace(
            item=item, shapes=shapes_validate(item=item, shapes=shapes), author=owner
        )
        by_path[item.file.path] = shapes
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    models = {b"\x80fake weights 0": _v1, b"\x80fake weights 1": _v2}
    settings.ALWEB_ML_BACKEND = "tests.models_mgmt.fake_backend"
    backend_service.get_backend.cache_clear()
    fake_backend.SCORES.clear()
    fake_backend.DETECT = lambda content, path: models[content](by_path[path])
    test = list(Item.objects.filter(project=project, split="test").order_by("pk"))
    shapes_of = {item.pk: _shapes(items.index(item)) for item in test}
    yield project, test, shapes_of
    fake_backend.DETECT = None
    backend_service.get_backend.cache_clear()


def _with(shapes_of, label):
    return sorted(i for i, shapes in shapes_of.items() if any(
        s["label"] == label for s in shapes
    ))  # fmt: skip


def test_a_class_never_predicted_fills_its_false_negative_bucket(client, scripted):
    project, test, shapes_of = scripted
    triangles = _with(shapes_of, "triangle")
    assert triangles and len(triangles) < len(test)  # the split made a real test
    v1 = training_start(project=project, actor=project.owner)
    evaluation = Evaluation.objects.get(model_version=v1)
    assert evaluation.error_stats["items"] == len(test)
    assert evaluation.error_stats["min_confidence"] == ERROR_MIN_CONFIDENCE
    missed = EvaluationError.objects.filter(evaluation=evaluation, kind="missed")
    assert sorted(missed.values_list("item_id", flat=True)) == triangles
    assert set(missed.values_list("cls", flat=True)) == {"triangle"}
    # Nothing else is wrong: every other shape is a true positive.
    assert EvaluationError.objects.filter(evaluation=evaluation).count() == len(
        triangles
    )
    circles = sum(1 for s in shapes_of.values() for x in s if x["label"] == "circle")
    assert evaluation.error_stats["true_positive"]["circle"] == circles

    summary = error_summary(evaluation=evaluation, project=project)
    (bucket,) = summary.buckets
    assert (bucket.kind, bucket.cls, bucket.count) == (
        "missed",
        "triangle",
        len(triangles),
    )
    assert list(bucket.item_ids) == triangles

    client.force_login(project.owner)
    page = client.get(reverse("models_mgmt:version", args=[project.pk, v1.number]))
    body = page.content.decode()
    link = body[body.index('data-testid="bucket-missed-triangle"') :].split("</a>")[0]
    assert link.endswith(f">{len(triangles)}")
    url = reverse("models_mgmt:version-errors", args=[project.pk, v1.number])
    listing = client.get(url, {"kind": "missed", "cls": "triangle"}).content.decode()
    shown = [i.pk for i in test if f'data-testid="bucket-item-{i.pk}"' in listing]
    assert shown == triangles
    item_url = reverse("annotate:project-item", args=[project.pk, triangles[0]])
    assert item_url in listing


def test_slices_count_errors_per_split_and_tag(client, scripted):
    project, test, shapes_of = scripted
    triangles = _with(shapes_of, "triangle")
    tagged = [triangles[0], *[i.pk for i in test if i.pk not in triangles][:1]]
    items_tag(project=project, actor=project.owner, item_ids=tagged, tag="night")
    v1 = training_start(project=project, actor=project.owner)
    summary = error_summary(
        evaluation=Evaluation.objects.get(model_version=v1), project=project
    )
    rows = {r.cls: dict(r.cells) for r in summary.slices}
    assert rows["split:test"]["missed"] == len(triangles)
    assert rows["tag:night"]["missed"] == 1  # one tagged item has a triangle
    client.force_login(project.owner)
    url = reverse("models_mgmt:version-errors", args=[project.pk, v1.number])
    listing = client.get(url, {"kind": "missed", "slice": "tag:night"})
    body = listing.content.decode()
    assert f'data-testid="bucket-item-{triangles[0]}"' in body
    assert body.count('data-testid="bucket-item-') == 1


def test_fixed_and_introduced_between_two_versions(client, scripted):
    project, test, shapes_of = scripted
    triangles = _with(shapes_of, "triangle")
    circles = _with(shapes_of, "circle")  # every test item: one circle each
    assert circles == sorted(shapes_of)
    v1 = training_start(project=project, actor=project.owner)
    v2 = training_start(project=project, actor=project.owner)
    diff = errors_compare(project=project, a=v1, b=v2)
    assert diff.eval_a.test_item_ids == diff.eval_b.test_item_ids
    assert diff.items == len(test) and diff.note == ""
    kinds = dict(zip(diff.kinds, diff.fixed, strict=True))
    assert {k: n for (k, _), n in kinds.items() if n} == {"missed": len(triangles)}
    introduced = {
        k: n for (k, _), n in zip(diff.kinds, diff.introduced, strict=True) if n
    }
    # Each circle now a rectangle: a confusion, and the circle missed.
    assert introduced == {"missed": len(circles), "confusion": len(circles)}
    per_class = {r.name: (r.fixed, r.introduced) for r in diff.per_class}
    missed = [k for k, _ in diff.kinds].index("missed")
    assert per_class["triangle"][0][missed] == len(triangles)
    assert per_class["circle"][1][missed] == len(circles)
    # Items with a triangle changed most (one fixed, two introduced).
    top = [d.item_id for d in diff.disagreeing]
    assert top == triangles + [i for i in circles if i not in triangles]
    assert all(
        d.total == (3 if d.item_id in triangles else 2) for d in diff.disagreeing
    )

    client.force_login(project.owner)
    url = reverse("models_mgmt:compare", args=[project.pk])
    body = client.get(url, {"a": v1.number, "b": v2.number}).content.decode()
    table = body[body.index('data-testid="errors-diff"') :].split("</table>")[0]
    assert f'<td class="up">{len(triangles)}</td>' in table
    grid = body[body.index('data-testid="disagreeing-items"') :].split("</ul>")[0]
    order = [grid.index(f'data-testid="disagreeing-{i}"') for i in top]
    assert order == sorted(order)
    assert reverse("annotate:project-item", args=[project.pk, top[0]]) in grid


def test_api_lists_the_buckets_of_the_newest_evaluation(scripted):
    project, test, shapes_of = scripted
    v1 = training_start(project=project, actor=project.owner)
    api = APIClient()
    api.force_authenticate(project.owner)
    data = api.get(f"/api/v1/models/{v1.pk}/errors/").json()
    assert data["status"] == "done" and data["items"] == len(test)
    (bucket,) = data["per_class"]
    triangles = _with(shapes_of, "triangle")
    assert bucket == {
        "kind": "missed",
        "cls": "triangle",
        "count": len(triangles),
        "items": len(triangles),
        "item_ids": triangles,
    }


@pytest.mark.django_db
def test_pages_say_when_there_is_no_error_analysis(client):
    owner = UserFactory(username="err-none")
    project = make_project(owner, name="No errors")
    version = ModelVersion.objects.create(
        project=project, number=1, name="v1", status="done"
    )
    Evaluation.objects.create(
        project=project, model_version=version, test_item_ids=[1], metrics={}
    )
    client.force_login(owner)
    body = client.get(
        reverse("models_mgmt:version", args=[project.pk, 1])
    ).content.decode()
    assert 'data-testid="errors-none"' in body
    url = reverse("models_mgmt:version-errors", args=[project.pk, 1])
    assert 'data-testid="errors-none"' in client.get(url).content.decode()
    api = APIClient()
    api.force_authenticate(owner)
    data = api.get(f"/api/v1/models/{version.pk}/errors/").json()
    assert data["status"] == "none" and data["per_class"] == []


def test_a_bucket_of_an_unknown_kind_is_400_with_the_reason(client, scripted):
    project, test, shapes_of = scripted
    v1 = training_start(project=project, actor=project.owner)
    client.force_login(project.owner)
    url = reverse("models_mgmt:version-errors", args=[project.pk, v1.number])
    response = client.get(url, {"kind": "<nope>", "page": "x"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "kind must be one of" in body and "<nope>" not in body
    assert client.get(url, {"kind": "missed", "page": "999"}).status_code == 200


def test_rows_are_written_in_batches_and_all_arrive(scripted, monkeypatch):
    from models_mgmt.services import errors as errors_service

    project, test, shapes_of = scripted
    monkeypatch.setattr(errors_service, "ROWS_PER_INSERT", 1)
    inserts = []
    store = errors_service.evaluation_errors_store
    monkeypatch.setattr(
        errors_service,
        "evaluation_errors_store",
        lambda **kw: inserts.append(len(kw["rows"])) or store(**kw),
    )
    v1 = training_start(project=project, actor=project.owner)
    triangles = _with(shapes_of, "triangle")
    assert inserts == [1] * len(triangles)  # never more than a batch held
    evaluation = Evaluation.objects.get(model_version=v1)
    assert evaluation.errors.count() == evaluation.error_stats["errors"]


def test_a_failed_analysis_is_said_and_the_metrics_stand(client, scripted):
    project, test, shapes_of = scripted
    broken = test[-1].file.path
    script = fake_backend.DETECT

    def detect(content, path):
        if path == broken:
            raise OSError("cannot read the image")
        return script(content, path)

    fake_backend.DETECT = detect
    v1 = training_start(project=project, actor=project.owner)
    v1.refresh_from_db()
    assert v1.status == "done" and v1.is_best  # evaluated, compared, promoted
    evaluation = Evaluation.objects.get(model_version=v1)
    assert evaluation.metrics["map50"] == fake_backend.METRICS["map50"]
    assert evaluation.error_stats == {"error": "OSError: cannot read the image"}
    assert not evaluation.errors.exists()  # no half analysis is kept
    client.force_login(project.owner)
    body = client.get(
        reverse("models_mgmt:version", args=[project.pk, v1.number])
    ).content.decode()
    assert 'data-testid="errors-failed"' in body and "cannot read the image" in body


def test_a_run_cancelled_during_the_analysis_stops_there(scripted, monkeypatch):
    from models_mgmt.services import errors as errors_service
    from models_mgmt.services import training as training_service
    from runs.models import Job
    from runs.services import run_cancel

    project, test, shapes_of = scripted
    monkeypatch.setattr(training_service, "CANCEL_POLL_SECONDS", 0.0)
    monkeypatch.setattr(errors_service, "IMAGES_PER_BATCH", 1)
    script = fake_backend.DETECT

    def detect(content, path):
        job = Job.objects.get(project=project, kind="train")
        if job.status == "running":
            run_cancel(job=job)
        return script(content, path)

    fake_backend.DETECT = detect
    v1 = training_start(project=project, actor=project.owner)
    v1.refresh_from_db()
    assert v1.status == "failed" and not v1.is_best
    assert Job.objects.get(project=project, kind="train").status == "cancelled"
    assert Evaluation.objects.get(model_version=v1).error_stats == {}
