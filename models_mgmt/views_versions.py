"""HTML pages of model versions: one version (curves, per-class AP, confusion
matrix, frozen lists, config, weights, runs), two versions compared, roll back."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from alweb.pages import project_context
from alweb.roles import Perm
from annotate.selectors import project_get_for_user
from models_mgmt import selectors, version_charts
from models_mgmt.selectors_errors import (
    KIND_NAMES,
    BadBucket,
    error_bucket_page,
    error_summary,
    errors_compare,
)
from models_mgmt.selectors_versions import (
    BadComparison,
    evaluation_latest,
    learning_curve,
    model_version_by_number,
    model_version_number_by_id,
    pick_curve_missing,
    version_choices,
    version_compare,
    version_metrics,
)
from models_mgmt.services.versions import model_version_roll_back
from runs import selectors as run_selectors
from runs.models import JobKind

BUCKET_KEYS = ("kind", "cls", "slice")
LIST_PREVIEW = 48  # thumbnails shown per frozen list; the count says the rest


def _lists(version, evaluation) -> list[dict]:
    test_ids = list(evaluation.test_item_ids) if evaluation else []
    return [
        {"name": name, "count": len(ids), "preview": ids[:LIST_PREVIEW]}
        for name, ids in (
            ("train", list(version.train_item_ids or [])),
            ("val", list(version.val_item_ids or [])),
            ("test", test_ids),
        )
    ]


@require_GET
def version_by_id(request, project_id, model_id):
    """The version page of the version an event names by its id (a redirect:
    pages name versions as users know them, v1, v2)."""
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    number = model_version_number_by_id(project=project, model_id=model_id)
    return redirect("models_mgmt:version", project_id=project.pk, number=number)


@require_GET
def version_page(request, project_id, number):
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    version = model_version_by_number(project=project, number=number)
    evaluation = evaluation_latest(version=version)
    metrics = version_metrics(version)
    context = project_context(request, project, "models")
    context.update(
        version=version,
        evaluation=evaluation,
        metrics=metrics,
        curves=version_charts.training_curves(version),
        per_class=version_charts.per_class_bars(version, metrics),
        confusion=version_charts.confusion(version, metrics, "chart-confusion"),
        lists=_lists(version, evaluation),
        config_text=json.dumps(version.config or {}, indent=2, sort_keys=True),
        runs=run_selectors.run_list_for_model_version(
            project=project, model_version_id=version.pk
        ),
        others=[v for v in version_choices(project=project) if v.pk != version.pk],
        errors=error_summary(evaluation=evaluation, project=project),
    )
    return render(request, "models_mgmt/version.html", context)


@require_GET
def version_errors(request, project_id, number):
    """The items behind one error bucket of the version's newest evaluation:
    ?kind=<error kind>&cls=<class>&slice=<split:… or tag:…>&page=n, each
    optional; a kind that is none of the error kinds: 400 with the reason."""
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    version = model_version_by_number(project=project, number=number)
    evaluation = evaluation_latest(version=version)
    context = project_context(request, project, "models")
    params = {k: (request.GET.get(k) or "").strip()[:200] for k in BUCKET_KEYS}
    context.update(
        version=version,
        evaluation=evaluation,
        f=params,
        kind_name=KIND_NAMES.get(params["kind"], ""),
    )
    status = 200
    if evaluation is not None and "items" in (evaluation.error_stats or {}):
        try:
            context["bucket"] = error_bucket_page(
                evaluation=evaluation,
                project=project,
                page=request.GET.get("page"),
                **params,
            )
        except BadBucket as exc:
            context["error"], status = str(exc), 400
    return render(request, "models_mgmt/version_errors.html", context, status=status)


@require_GET
def version_weights(request, project_id, number):
    """The version's weights file, streamed (EXPORT: taking the model out of
    alweb is an export); 404 when it has none."""
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.EXPORT
    )
    version = model_version_by_number(project=project, number=number)
    if not version.weights:
        raise Http404(f"{version.name} has no weights")
    try:
        handle = version.weights.open("rb")
    except FileNotFoundError:
        raise Http404(f"the weights file of {version.name} is missing") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{project.name[:40]}-{version.name}.pt".replace(" ", "_"),
        content_type="application/octet-stream",
    )


@require_GET
def compare_page(request, project_id):
    """?a=<number>&b=<number>: every metric with its delta (b - a), per-class
    deltas, both confusion matrices; and the comparison history with promote
    and roll back. Unknown versions: 404; the same one twice: 400."""
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    context = project_context(request, project, "models")
    versions = version_choices(project=project)
    points = learning_curve(project=project)
    context.update(
        versions=versions,
        comparisons=list(selectors.comparison_list(project=project)[:30]),
        learning=version_charts.learning_curve_chart(points),
        pick_curve=version_charts.pick_curve_chart(
            points, missing=pick_curve_missing(project=project, points=points)
        ),
        pick_points=[p for p in points if p.by_pick],
        backtests=list(
            run_selectors.run_list(project=project, kind=JobKind.BACKTEST)[:5]
        ),
        best=next((v for v in versions if v.is_best), None),
        a=request.GET.get("a", ""),
        b=request.GET.get("b", ""),
    )
    status = 200
    if context["a"] or context["b"]:
        try:
            cmp = version_compare(project=project, a=context["a"], b=context["b"])
        except BadComparison as exc:
            context["error"], status = str(exc), 400
        else:
            context["cmp"] = cmp
            context["error_diff"] = errors_compare(project=project, a=cmp.a, b=cmp.b)
            context["charts"] = version_charts.comparison_charts(
                cmp, version_metrics(cmp.a), version_metrics(cmp.b)
            )
    return render(request, "models_mgmt/compare.html", context, status=status)


@require_POST
def roll_back(request, project_id):
    """Make the version that was best before the current one the best again."""
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.PROMOTE
    )
    try:
        version = model_version_roll_back(project=project, actor=request.user)
        messages.success(request, f"Rolled back: {version.name} is the best model.")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("models_mgmt:compare", project_id=project.pk)
