"""The item browser (filters, search, bulk actions) and the item page (image
with its shapes, label history, events, scores, reopen for correction)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors, selectors_items
from annotate.explain import COMPONENT_NAMES, priority_explanation
from annotate.models import ItemStatus, Split
from annotate.selectors_work import WINDOW_NAMES, item_tag_names, project_tag_names
from annotate.services import curation, tags
from annotate.shapes import shape_geometry

# The browser's filters: query parameter -> item_list keyword.
FILTERS = {
    "status": "status",
    "split": "split",
    "q": "name",
    "label": "label",
    "annotator": "annotator",
    "assignee": "assignee",
    "tag": "tag",
    "labelled_by": "labelled_by",
    "reviewed_by": "reviewed_by",
    "checked_by": "checked_by",
    "verdict": "verdict",
    "window": "window",
    "consensus": "consensus",
    "ood": "ood",
    "disagree": "disagree",
}
BULK_CHOICES = [
    ("label", "Send to labelling"),
    ("review", "Send to review"),
    ("skip", "Skip"),
    ("pin", "Pin to the front"),
    ("demote", "Demote to the back"),
    ("unpin", "Unpin"),
    ("assign", "Assign to…"),
    ("unassign", "Unassign"),
    ("tag", "Tag with…"),
    ("untag", "Remove the tag…"),
    ("similar", "Find similar (as a bucket)"),
]
TAG_ACTIONS = ("tag", "untag")
# Filters the Work page's links set (no box of their own: kept as hidden inputs).
WORK_KEYS = (
    "labelled_by",
    "reviewed_by",
    "checked_by",
    "verdict",
    "window",
    "consensus",
)


def _filters(source) -> dict[str, str]:
    values = {key: (source.get(key) or "").strip()[:255] for key in FILTERS}
    values["ordering"] = source.get("ordering") or "-priority"
    values["page"] = source.get("page") or ""
    return values


def _items_page(request, project, params: dict, *, status=200, selected=(), typed=None):
    context = project_context(request, project, "items")
    query = {FILTERS[k]: params[k] for k in FILTERS if params[k]}
    try:
        items = selectors_items.item_list(
            project=project, ordering=params["ordering"], **query
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        items = selectors_items.item_list(project=project)
        params = {**{k: "" for k in FILTERS}, "ordering": "-priority", "page": ""}
    rows = selectors_items.item_list_pages(items, ordering=params["ordering"])
    page = Paginator(rows, 48, allow_empty_first_page=True).get_page(params["page"])
    kept = {k: v for k, v in params.items() if v and k != "page"}
    members = selectors.member_list(project=project)
    context.update(
        page=page,
        f=params,
        query=urlencode(kept),
        statuses=list(ItemStatus.values),
        splits=[*Split.values, "none"],
        orderings=list(selectors_items.ITEM_ORDERINGS),
        disagreements=list(selectors_items.DISAGREEMENTS.items()),
        members=members,
        labellers=selectors.member_users_who_label(project=project),
        tags=project_tag_names(project=project),
        work_hidden=[(k, params[k]) for k in WORK_KEYS if params[k]],
        work_filter=_work_filter_text(params, members),
        bulk_choices=BULK_CHOICES,
        selected={str(i) for i in selected},
        typed=typed or {},
    )
    if request.htmx and request.method == "GET":
        return render(request, "annotate/project_items.html#item-grid", context)
    return render(request, "annotate/project_items.html", context, status=status)


def _work_filter_text(params: dict, members) -> str:
    if not any(params[k] for k in WORK_KEYS):
        return ""
    names = {str(m.user_id): m.user.username for m in members}
    parts = []
    for key, text in (
        ("labelled_by", "labelled by"),
        ("reviewed_by", "reviewed by"),
        ("checked_by", "checked by"),
    ):
        if params[key]:
            parts.append(f"{text} {names.get(params[key], params[key])}")
    if params["verdict"]:
        parts.append(params["verdict"] + " in review")
    if params["consensus"]:
        parts.append("labelled by two annotators")
    if params["window"]:
        parts.append(WINDOW_NAMES.get(params["window"], params["window"]))
    return " · ".join(parts)


@require_GET
def project_items(request, project_id):
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    return _items_page(request, project, _filters(request.GET))


@require_POST
def items_bulk(request, project_id):
    """One bulk action on the checked items; a refusal re-renders the page with
    the reason (400), the same filters and the same boxes checked."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.ASSIGN_TASKS
    )
    params = _filters(request.POST)
    ids = request.POST.getlist("items")
    action = request.POST.get("action", "")
    if action == "similar":  # a search, not a change: the results page
        url = reverse("annotate:project-items-similar", args=[project.pk])
        if ids:
            return redirect(f"{url}?{urlencode([('items', i) for i in ids[:500]])}")
        messages.error(request, "Nothing was searched: items: select at least one")
        typed = {"action": action}
        return _items_page(request, project, params, status=400, typed=typed)
    assignee = None
    # "assign_to", not "assignee": that name is the assigned-to filter.
    if action == "assign" and request.POST.get("assign_to"):
        try:
            assignee = selectors.member_get(
                project=project, user_id=request.POST["assign_to"]
            ).user
        except Http404:  # not a member: the service reports it as bad input
            assignee = None
    try:
        if action in TAG_ACTIONS:
            count = tags.items_tag(
                project=project,
                actor=request.user,
                item_ids=ids,
                tag=request.POST.get("tag_name", ""),
                remove=action == "untag",
            )
        else:
            count = curation.items_bulk_apply(
                project=project,
                actor=request.user,
                action=action,
                item_ids=ids,
                assignee=assignee,
            )
    except ValidationError as exc:
        reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        messages.error(request, f"Nothing was changed: {reasons}")
        typed = {
            k: request.POST.get(k, "")[:255]
            for k in ("action", "assign_to", "tag_name")
        }
        return _items_page(
            request, project, params, status=400, selected=ids, typed=typed
        )
    label = dict(BULK_CHOICES).get(action, action).rstrip("…")
    messages.success(request, f"{label}: {count} item{'s' if count != 1 else ''}.")
    kept = {k: v for k, v in params.items() if v}
    url = reverse("annotate:project-items", args=[project.pk])
    return redirect(f"{url}?{urlencode(kept)}" if kept else url)


PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4"]


def shape_overlay(shapes, labels) -> list[dict]:
    """Shapes as SVG attributes in image pixels, coloured by label index.
    `shapes`: (label, geometry, from a model) triples."""
    drawn = []
    for label, geometry, model in shapes:
        index = labels.index(label) if label in labels else 0
        entry = {"label": label, "colour": PALETTE[index % len(PALETTE)]}
        entry["model"] = model
        geometry = geometry if isinstance(geometry, dict) else {}
        if "bbox" in geometry:
            x, y, w, h = geometry["bbox"]
            entry.update(x=x, y=y, w=w, h=h, tx=x, ty=max(y - 4, 10))
        elif geometry.get("points"):
            points = geometry["points"]
            entry["points"] = " ".join(f"{px},{py}" for px, py in points)
            entry.update(tx=points[0][0], ty=max(points[0][1] - 4, 10))
        else:
            continue
        drawn.append(entry)
    return drawn


def _versions(tasks, events, labels) -> list[dict]:
    """Every label version the item kept, newest first: each submitted label
    task (the shapes it submitted) and each approved set that a reopen replaced
    (the shapes its event copied)."""
    versions = []
    for task in tasks:
        if task.kind == "label" and isinstance(task.draft, list):
            shapes = [
                (s.get("label"), shape_geometry(s), False)
                for s in task.draft
                if isinstance(s, dict) and s.get("kind") in ("box", "polygon")
            ]
            versions.append(
                {
                    "when": task.finished_at or task.created_at,
                    "what": f"submitted by {task.assignee.username}",
                    "status": task.get_status_display(),
                    "overlay": shape_overlay(shapes, labels),
                }
            )
    for event in events:
        if event.verb == "item_reopened":
            shapes = [
                (s.get("label"), s.get("geometry"), str(s.get("source", "")) != "human")
                for s in event.data.get("shapes") or []
                if isinstance(s, dict)
            ]
            versions.append(
                {
                    "when": event.created_at,
                    "what": f"approved version {event.data.get('version')}, "
                    "replaced by a reopen",
                    "status": "Reopened",
                    "overlay": shape_overlay(shapes, labels),
                }
            )
    versions.sort(key=lambda v: v["when"], reverse=True)
    return versions


def _item_context(request, item):
    context = project_context(request, item.project, "items")
    shapes = selectors.item_shapes(item=item)
    labels = list(item.project.labels)
    tasks = selectors.item_tasks(item=item)
    events = selectors.item_events(item=item)
    reason = item.priority_reason or {}
    components = {**(item.score_components or {}), **(reason.get("components") or {})}
    context.update(
        item=item,
        shapes=shapes,
        tags=item_tag_names(item=item),
        overlay=shape_overlay(
            [(a.label, a.geometry, a.source == "model") for a in shapes], labels
        ),
        stroke=max(item.width, item.height) / 300,
        thumb_stroke=max(item.width, item.height) / 80,  # drawn at a quarter size
        tasks=tasks,
        events=events,
        versions=_versions(tasks, events, labels),
        why=priority_explanation(item),
        components=[
            (COMPONENT_NAMES.get(k, k), v)
            for k, v in components.items()
            if isinstance(v, int | float)
        ],
        scored_by=reason.get("model_name", ""),
    )
    return context


@require_GET
def item_detail(request, project_id, item_id):
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    item = selectors.item_get_in_project(project=project, item_id=item_id)
    return render(request, "annotate/item_detail.html", _item_context(request, item))


@require_POST
def item_reopen(request, project_id, item_id):
    """Send a done item back through labelling and review (ASSIGN_TASKS)."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.ASSIGN_TASKS
    )
    item = selectors.item_get_in_project(project=project, item_id=item_id)
    try:
        curation.item_reopen(
            item=item, actor=request.user, comment=request.POST.get("comment", "")
        )
    except ValidationError as exc:
        messages.error(request, "Not reopened: " + "; ".join(exc.messages))
        context = _item_context(request, item)
        context["comment"] = request.POST.get("comment", "")
        return render(request, "annotate/item_detail.html", context, status=400)
    messages.success(
        request, "Reopened: the item waits for labelling, then review again."
    )
    return redirect("annotate:project-item", project_id=project.pk, item_id=item.pk)
