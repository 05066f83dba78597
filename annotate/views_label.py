"""The labelling and review pages: a GET shows the caller's held task (a read);
claiming the next one is a POST (the page's script, or the no-script form).
Also the overview's Release button for someone else's claim."""

from django.conf import settings
from django.contrib import messages
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_http_methods, require_POST

from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors
from annotate.api.outputs import TaskSerializer
from annotate.models import TaskKind
from annotate.services import queue as queue_services

# The canvas's palette (static/annotate/canvas/state.js), so that the page's legend
# and the canvas agree on every label's colour.
PALETTE = [
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
    "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000",
    "#aaffc3", "#808000", "#ffd8b1", "#000075", "#a9a9a9", "#ffe119",
]  # fmt: skip

SEGMENT_OFF = (
    "Segment: no segmentation weights yet. An owner or developer can upload "
    "them on the Models page."
)

EMPTY = {
    TaskKind.LABEL: "Nothing to label right now.",
    TaskKind.REVIEW: "Nothing to review right now.",
}


def _page(request, project_id, *, kind: str, perm: Perm, template: str, tab: str):
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=perm
    )
    if request.method == "POST":
        # The no-script fallback (the page's script POSTs to the API instead).
        task = queue_services.queue_claim_next(
            project=project, user=request.user, kind=kind
        )
        if task is None:
            messages.info(request, EMPTY[kind])
        return redirect(request.path)
    get_token(request)  # the page's fetch() calls send the CSRF cookie back
    # A plain GET (a link, an <img> from another site, a prefetch) claims
    # nothing and renews no lease: it only shows a task the caller already holds.
    task = selectors.task_active_for_user(project=project, user=request.user, kind=kind)
    context = project_context(request, project, tab)
    context["task"] = task
    context["page_config"] = {
        "kind": kind,
        "projectId": project.pk,
        "task": TaskSerializer(task).data if task is not None else None,
        "labels": [
            {"name": name, "color": PALETTE[i % len(PALETTE)]}
            for i, name in enumerate(project.labels)
        ],
        "nextUrl": reverse("api-task-next", args=[project.pk]),
        # Read-only look-ahead at the next item, for preloading its image.
        "peekUrl": reverse("api-task-peek", args=[project.pk]),
        # Prefix of /api/v1/tasks/<id>/<action>/ (the page appends id and action).
        "taskUrl": reverse("api-task-release", args=[0]).removesuffix("0/release/"),
        "loginUrl": reverse("login"),
        # The label page's starting confidence threshold; review shows all.
        "threshold": settings.ALWEB_PREANNOTATION_THRESHOLD
        if kind == TaskKind.LABEL
        else 0,
    }
    if kind == TaskKind.LABEL:
        # Click-to-segment: POST {x, y, label} to <segmentUrl><item id>/segment/;
        # the tool is shown disabled without weights or without polygons.
        present = import_string(settings.ALWEB_SEGMENTER_PRESENT)
        context["page_config"]["segment"] = {
            "enabled": "polygon" in project.kinds and present(project_id=project.pk),
            "url": reverse("api-item-segment", args=[0]).removesuffix("0/segment/"),
            "off": SEGMENT_OFF
            if "polygon" in project.kinds
            else "Segment: this project does not draw polygons",
        }
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def label_page(request, project_id):
    """GET: the label page with the caller's held label task, if any; POST:
    claim (or resume) the next label task, then back to the page (LABEL perm)."""
    return _page(
        request,
        project_id,
        kind=TaskKind.LABEL,
        perm=Perm.LABEL,
        template="annotate/label.html",
        tab="label",
    )


@require_http_methods(["GET", "POST"])
def review_page(request, project_id):
    """GET: the review page with the caller's held review task, if any; POST:
    claim (or resume) the next review task, then back to the page (REVIEW perm)."""
    return _page(
        request,
        project_id,
        kind=TaskKind.REVIEW,
        perm=Perm.REVIEW,
        template="annotate/review.html",
        tab="review",
    )


@require_POST
def task_release(request, project_id, task_id):
    """Release a claim from the project overview (ASSIGN_TASKS), then back there."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.ASSIGN_TASKS
    )
    task = selectors.task_get_for_release(
        user=request.user, task_id=task_id, project_id=project.pk
    )
    who = task.assignee.get_username()
    if queue_services.task_release_by_manager(task=task, actor=request.user):
        messages.success(
            request, f"Released {who}'s {task.kind} claim on item {task.item_id}."
        )
    else:
        messages.info(request, f"That claim of {who}'s had already ended.")
    return redirect("annotate:project-detail", project_id=project.pk)
