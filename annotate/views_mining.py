"""Similar-item mining pages: the items nearest to one item or a bucket of them
by embedding, and sending the chosen ones to the front of the labelling queue;
the embedding map of the pool."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from alweb.exceptions import Conflict
from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors, selectors_map, selectors_mining
from annotate.services.mining import items_similar_prioritise


def _reasons(exc: ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())


def _similar_page(request, project, source, *, status=200, checked=()):
    """The results for the query in `source` (GET or the POST re-rendered):
    400 with the reason for bad input, 409 when an item has no embedding."""
    context = project_context(request, project, "items")
    query = source.getlist("similar_to") or source.getlist("items")
    k, mode = source.get("k", ""), source.get("mode", "")
    context.update(
        query_ids=query,
        k=k or selectors_mining.K_DEFAULT,
        k_max=selectors_mining.K_MAX,
        mode=mode or "centroid",
        results=[],
        checked={str(i) for i in checked},
    )
    try:
        context["results"] = selectors_mining.item_similar(
            project=project, item_ids=query, k=k, mode=mode
        )
    except ValidationError as exc:
        messages.error(request, f"Cannot search: {_reasons(exc)}")
        status = 400
    except Conflict as exc:
        messages.error(request, f"Cannot search: {exc.message}")
        status = 409
    return render(request, "annotate/item_similar.html", context, status=status)


@require_GET
def items_similar(request, project_id):
    """?items=<id>&items=<id>...&k=&mode=: the k nearest unlabelled items."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    return _similar_page(request, project, request.GET)


@require_POST
def items_similar_send(request, project_id):
    """Pin the checked results to the front of the queue (ASSIGN_TASKS); a
    refusal re-renders the results with the reason and the same boxes checked."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.ASSIGN_TASKS
    )
    chosen = request.POST.getlist("items")
    try:
        count = items_similar_prioritise(
            project=project,
            actor=request.user,
            similar_to=request.POST.getlist("similar_to"),
            item_ids=chosen,
            mode=request.POST.get("mode") or "centroid",
        )
    except ValidationError as exc:
        messages.error(request, f"Nothing was changed: {_reasons(exc)}")
        return _similar_page(request, project, request.POST, status=400, checked=chosen)
    except Conflict as exc:
        messages.error(request, f"Nothing was changed: {exc.message}")
        return _similar_page(request, project, request.POST, status=409, checked=chosen)
    messages.success(
        request,
        f"Sent to labelling first: {count} item{'s' if count != 1 else ''}.",
    )
    url = reverse("annotate:project-items", args=[project.pk])
    return redirect(f"{url}?status=unlabeled&ordering=-priority")


MAP_SIZE = (720, 480)  # the SVG's viewBox
MAP_MARGIN = 36
MAP_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#7f7f7f", "#d62728")


def _map_svg(data) -> dict:
    """The map's points in SVG coordinates (y up), each class's colour, and
    the axes' ticks: what the template draws."""
    width, height = MAP_SIZE
    colour = {
        c: MAP_PALETTE[n % len(MAP_PALETTE)] for n, (c, _) in enumerate(data.classes)
    }
    xs = [p.x for p in data.points] or [0.0]
    ys = [p.y for p in data.points] or [0.0]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - 2 * MAP_MARGIN) / ((x1 - x0) or 1.0)
    sy = (height - 2 * MAP_MARGIN) / ((y1 - y0) or 1.0)
    points = [
        {
            "id": p.item_id,
            "name": p.name,
            "cls": p.cls,
            "colour": colour[p.cls],
            "cx": round(MAP_MARGIN + (p.x - x0) * sx, 1),
            "cy": round(height - MAP_MARGIN - (p.y - y0) * sy, 1),
        }
        for p in data.points
    ]
    return {
        "points": points,
        "legend": [(c, colour[c], n) for c, n in data.classes],
        "width": width,
        "height": height,
        "margin": MAP_MARGIN,
        "right": width - MAP_MARGIN,
        "bottom": height - MAP_MARGIN,
        "x_range": (round(x0, 3), round(x1, 3)),
        "y_range": (round(y0, 3), round(y1, 3)),
    }


@require_GET
def embedding_map(request, project_id):
    """?colour=split|ood: the 2-D PCA map of the items' embeddings (at most
    selectors_map.MAX_POINTS of them), each point a link to its item page."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    context = project_context(request, project, "overview")
    status = 200
    colour = request.GET.get("colour", "")
    try:
        data = selectors_map.embedding_map(project=project, colour=colour)
    except ValueError as exc:
        messages.error(request, f"Cannot draw the map: {exc}")
        status = 400
        data = selectors_map.embedding_map(project=project)
    context.update(
        data=data,
        svg=_map_svg(data),
        colour=colour,
        colourings=selectors_map.COLOURINGS,
        max_points=selectors_map.MAX_POINTS,
    )
    return render(request, "annotate/embedding_map.html", context, status=status)
