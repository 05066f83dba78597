"""HTML pages of backtests: start one on the project's ground truth, follow it,
see its learning curves and label efficiency, download its files."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from alweb.exceptions import Conflict
from alweb.pages import project_context
from alweb.roles import Perm
from annotate.selectors import project_get_for_user
from ml.selection import STRATEGIES
from models_mgmt.forms import BacktestForm
from models_mgmt.services.backtests import (
    backtest_defaults,
    backtest_dir,
    backtest_start,
)
from runs import selectors as run_selectors
from runs.models import JobKind

FILES = {"curves.svg": "image/svg+xml", "curves.csv": "text/csv"}


@require_http_methods(["GET", "POST"])
def backtests_page(request, project_id):
    """The project's backtests; POST (BACKTEST perm) starts one."""
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    defaults = backtest_defaults(project=project)
    form = BacktestForm(request.POST or None, initial=defaults)
    status = 200
    if request.method == "POST":
        project_get_for_user(
            user=request.user, project_id=project.pk, perm=Perm.BACKTEST
        )
        if form.is_valid():
            try:
                job = backtest_start(
                    project=project, actor=request.user, data=form.cleaned_data
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except Conflict as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Backtest run {job.pk} queued.")
                return redirect(
                    "models_mgmt:backtest", project_id=project.pk, run_id=job.pk
                )
        status = 400
    context = project_context(request, project, "models")
    context.update(
        form=form,
        runs=list(run_selectors.run_list(project=project, kind=JobKind.BACKTEST)[:20]),
        strategies=[(s.name, s.description) for s in STRATEGIES.values()],
    )
    return render(request, "models_mgmt/backtests.html", context, status=status)


@require_GET
def backtest_page(request, project_id, run_id):
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    job = run_selectors.run_get_for_user(
        user=request.user, run_id=run_id, project_id=project.pk
    )
    if job.kind != JobKind.BACKTEST:
        raise Http404("no such backtest")
    context = project_context(request, project, "models")
    result = job.result or {}
    rows = []
    for name, row in (result.get("strategies") or {}).items():
        eff = row.get("efficiency") or {}
        worst = min(row.get("paired") or [], key=lambda d: d["mean"], default=None)
        rows.append({"name": name, **row, "eff": eff, "worst": worst})
    context.update(job=job, rows=rows, polling=job.is_active)
    if request.htmx:
        return render(request, "models_mgmt/backtest.html#backtest-live", context)
    return render(request, "models_mgmt/backtest.html", context)


@require_GET
def backtest_file(request, project_id, run_id, name):
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    job = run_selectors.run_get_for_user(
        user=request.user, run_id=run_id, project_id=project.pk
    )
    if job.kind != JobKind.BACKTEST or name not in FILES:
        raise Http404("no such file")
    path = backtest_dir(job.pk) / name
    if not path.is_file():
        raise Http404("not ready")
    response = FileResponse(path.open("rb"), content_type=FILES[name])
    response["X-Content-Type-Options"] = "nosniff"
    if name.endswith(".csv"):
        response["Content-Disposition"] = (
            f'attachment; filename="backtest-{job.pk}.csv"'
        )
    return response
