"""HTML page of a project's pipeline: both flows as nodes with live counts and
the last run of each, and the training triggers with when each fires next."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from alweb.pages import project_context
from alweb.roles import Perm
from annotate.selectors import project_get_for_user
from models_mgmt.selectors_pipeline import pipeline_overview
from runs import selectors as run_selectors


@require_GET
def pipeline_page(request, project_id):
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    context = project_context(request, project, "pipeline")
    overview = pipeline_overview(project=project)
    context.update(
        upper=overview.upper,
        lower=overview.lower,
        triggers=overview.triggers,
        polling=run_selectors.runs_active(project=project),
    )
    if request.htmx:
        return render(request, "models_mgmt/pipeline.html#pipeline-live", context)
    return render(request, "models_mgmt/pipeline.html", context)
