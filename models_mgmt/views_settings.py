"""HTML page of a project's pipeline settings: selection, split, training settings
and triggers (one form, both apps' rows), and the labels."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from alweb.pages import project_context
from alweb.roles import Perm
from annotate.selectors import project_get_for_user
from annotate.services.pipeline import project_labels_update
from annotate.services.projects import project_update
from ml.selection import STRATEGIES
from models_mgmt.forms import (
    COMPARISON_PREFIX,
    MODEL_PREFIX,
    STRATEGY_PREFIX,
    GoalForm,
    LabelsForm,
    PipelineSettingsForm,
    ThresholdsForm,
)
from models_mgmt.selectors import pipeline_settings_get
from models_mgmt.services.pipeline import pipeline_update
from models_mgmt.validators import cron_preview


@require_http_methods(["GET", "POST"])
def project_settings(request, project_id):
    """View for managers, edit for owners and developers. A refused POST answers
    400 with what was typed and each reason under its box; nothing is saved."""
    project = project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_PIPELINE
    )
    if request.method == "GET" and request.GET.get("preview") in PREVIEWS:
        return _preview(request, project)
    saved = pipeline_settings_get(project=project)
    form = PipelineSettingsForm(initial=PipelineSettingsForm.initial_from(saved))
    side_forms = {
        "labels_form": LabelsForm(initial={"labels": ", ".join(project.labels)}),
        "goal_form": GoalForm(initial={"goal": project.goal or ""}),
        "thresholds_form": ThresholdsForm(initial=saved.thresholds),
    }
    status = 200
    if request.method == "POST":
        if not request.user.has_perm(Perm.EDIT_PIPELINE, project):
            raise PermissionDenied("your role can only view the pipeline settings")
        action = request.POST.get("action")
        if action in SIDE_FORMS:
            form_class, write, done = SIDE_FORMS[action]
            bound = side_forms[f"{action}_form"] = form_class(request.POST)
        else:
            bound = form = PipelineSettingsForm(request.POST)
            write, done = _write_pipeline, "Pipeline settings saved."
        if _save(request, project, bound, write):
            messages.success(request, done)
            return redirect("models_mgmt:project-settings", project_id=project.pk)
        status = 400
        reasons = form.reasons() if bound is form else _reasons(bound)
        messages.error(request, "Nothing was saved: " + reasons)
    context = project_context(request, project, "settings")
    context.update(
        form=form,
        **side_forms,
        **_references(form["strategy"].value(), form["trigger_cron"].value()),
        **_rows(form, form["strategy"].value()),
    )
    return render(request, "models_mgmt/project_settings.html", context, status=status)


PREVIEWS = {
    "cron": "models_mgmt/_cron_preview.html",
    "strategy": "models_mgmt/_strategy_params.html",
}


def _preview(request, project):
    """The page's live help (htmx, as the user types): the cron schedule in
    words with its next runs, or the chosen strategy's parameters."""
    strategy = request.GET.get("strategy", "")
    cron = request.GET.get("trigger_cron", "")[:200]
    saved = pipeline_settings_get(project=project)
    # The saved values where the chosen strategy is the saved one; else its
    # boxes empty (its defaults).
    initial = PipelineSettingsForm.initial_from(saved)
    if strategy != saved.strategy:
        initial = {
            k: v for k, v in initial.items() if not k.startswith(STRATEGY_PREFIX)
        }
    form = PipelineSettingsForm(initial=initial)
    context = {
        "project": project,
        "can": {"edit_pipeline": request.user.has_perm(Perm.EDIT_PIPELINE, project)},
        **_references(strategy, cron),
        **_rows(form, strategy),
    }
    return render(request, PREVIEWS[request.GET["preview"]], context)


def _rows(form: PipelineSettingsForm, strategy) -> dict:
    """The generated fields of the page, each with its spec and default."""
    return {
        "strategy_rows": form.rows(STRATEGY_PREFIX, strategy),
        "model_rows": form.rows(MODEL_PREFIX),
        "comparison_rows": form.rows(COMPARISON_PREFIX),
    }


def _references(strategy, cron) -> dict:
    """What the settings page shows beside the boxes: the chosen strategy (its
    parameters' boxes are _rows') and the cron preview."""
    strategy = strategy if strategy in STRATEGIES else None
    return {
        "strategy_name": strategy,
        "cron": cron_preview(cron if isinstance(cron, str) else ""),
        "time_zone": settings.TIME_ZONE,
    }


def _reasons(form) -> str:
    """A refused side form's errors in one line: "field: reason; ..."."""
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())


def _save(request, project, form, write) -> bool:
    """Validate `form`, then `write(request, project, form)` (its one service
    call). A refusal's reasons go under the boxes they name: the form's own
    add_api_errors where it has one, else field by field (a reason about no
    box on top). True when saved."""
    if not form.is_valid():
        return False
    try:
        write(request, project, form)
    except ValidationError as exc:
        if hasattr(form, "add_api_errors"):
            form.add_api_errors(exc.message_dict)
        else:
            for field, reasons in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, reasons)
        return False
    return True


def _write_pipeline(request, project, form) -> None:
    """The pipeline form's and the thresholds form's write."""
    pipeline_update(project=project, actor=request.user, data=form.api_data())


def _write_labels(request, project, form: LabelsForm) -> None:
    project_labels_update(
        project=project, actor=request.user, labels=form.cleaned_data["labels"]
    )


def _write_goal(request, project, form: GoalForm) -> None:
    project_update(project=project, actor=request.user, goal=form.cleaned_data["goal"])


# The page's smaller forms, by the POST's "action": (form, write, message).
SIDE_FORMS = {
    "goal": (GoalForm, _write_goal, "Goal saved."),
    "thresholds": (ThresholdsForm, _write_pipeline, "Thresholds saved."),
    "labels": (LabelsForm, _write_labels, "Labels saved."),
}
