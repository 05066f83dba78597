"""The re-review queue: items a model flagged as possible label errors, best
score first, each drawn with its approved shapes and the model's conflicting
prediction; a reviewer confirms the label or reopens the item for a fix."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from alweb.exceptions import Conflict
from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors, selectors_flags
from annotate.responses import item_image_response
from annotate.services.label_errors import (
    SIMILAR_K,
    label_error_confirm,
    label_error_fix,
    label_error_similar_flag,
)
from annotate.views_items import shape_overlay

SHOWN = 20  # flags drawn per page


def _card(flag, labels) -> dict:
    item = flag.item
    involved = {c.get("gt_index") for c in flag.candidates}
    shapes = [
        (a.label, a.geometry, False)
        for n, a in enumerate(item.shapes)
        if n not in involved
    ]
    approved = shape_overlay(shapes, labels)
    flagged = shape_overlay(
        [
            (a.label, a.geometry, False)
            for n, a in enumerate(item.shapes)
            if n in involved
        ],
        labels,
    )
    predicted = shape_overlay(
        [
            (c.get("predicted"), {"bbox": c["pred_bbox"]}, True)
            for c in flag.candidates
            if c.get("pred_bbox")
        ],
        labels,
    )
    return {
        "flag": flag,
        "item": item,
        "top": flag.candidates[0] if flag.candidates else {},
        "approved": approved,
        "flagged": flagged,
        "predicted": predicted,
        "stroke": max(item.width, item.height) / 150,
    }


def _page(request, project, *, status=200, comment=""):
    context = project_context(request, project, "label-errors")
    labels = list(project.labels)
    flags = selectors_flags.label_error_queue(project=project, limit=SHOWN)
    context.update(
        cards=[_card(f, labels) for f in flags],
        total=selectors_flags.label_error_flags_open(project=project).count(),
        fixed=selectors_flags.label_error_flags_fixed(project=project),
        shown=SHOWN,
        comment=comment,
    )
    return render(request, "annotate/label_errors.html", context, status=status)


@require_GET
def label_errors_page(request, project_id):
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.REVIEW
    )
    return _page(request, project)


def _answer(request, project_id, flag_id, action):
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.REVIEW
    )
    flag = selectors_flags.label_error_flag_get(project=project, flag_id=flag_id)
    comment = request.POST.get("comment", "")
    try:
        if action == "confirm":
            label_error_confirm(flag=flag, actor=request.user)
            messages.success(request, f"Label confirmed on {flag.item.original_name}.")
        else:
            label_error_fix(flag=flag, actor=request.user, comment=comment)
            messages.success(
                request,
                f"Reopened {flag.item.original_name}: it waits for labelling, "
                "then review again.",
            )
    except ValidationError as exc:
        messages.error(request, "Nothing was changed: " + "; ".join(exc.messages))
        return _page(request, project, status=400, comment=comment)
    return redirect("annotate:label-errors", project_id=project.pk)


@require_POST
def label_error_confirm_view(request, project_id, flag_id):
    """The label is right (REVIEW): the flag is cleared for this model version."""
    return _answer(request, project_id, flag_id, "confirm")


@require_POST
def label_error_fix_view(request, project_id, flag_id):
    """The label is wrong (REVIEW): the item is reopened for correction."""
    return _answer(request, project_id, flag_id, "fix")


@require_GET
def label_error_image(request, project_id, flag_id):
    """The flagged item's image for whoever reviews (REVIEW), who may not see
    the item browser's images (VIEW_DASHBOARD)."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.REVIEW
    )
    flag = selectors_flags.label_error_flag_get(project=project, flag_id=flag_id)
    return item_image_response(flag.item)


@require_POST
def label_error_similar_view(request, project_id, flag_id):
    """Find similar mistakes from a fixed flag (REVIEW): the nearest ground
    truth items are flagged for re-review, the reason naming the seed."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.REVIEW
    )
    flag = selectors_flags.label_error_flag_get(project=project, flag_id=flag_id)
    try:
        done = label_error_similar_flag(
            flag=flag, actor=request.user, k=request.POST.get("k") or SIMILAR_K
        )
    except (ValidationError, Conflict) as exc:
        reasons = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        messages.error(request, "Nothing was flagged: " + "; ".join(reasons))
        return _page(
            request, project, status=400 if isinstance(exc, ValidationError) else 409
        )
    messages.success(
        request,
        f"Flagged {done['flagged']} item{'s' if done['flagged'] != 1 else ''} "
        f"similar to {flag.item.original_name} for re-review"
        + (
            f" ({done['skipped']} already flagged or answered)"
            if done["skipped"]
            else ""
        )
        + ".",
    )
    return redirect("annotate:label-errors", project_id=project.pk)
