"""The event log page: who did what and when, newest first, filtered by kind, by
who and by date (from, to), one keyset page at a time."""

from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors, selectors_events
from annotate.forms import EventFilterForm


def _query(form, **changes) -> str:
    """The filters of `form` with `changes`, as a query string (empty kept out)."""
    query = QueryDict(mutable=True)
    values = {k: form.cleaned_data.get(k) for k in ("kind", "user", "since", "until")}
    values.update(changes)
    for key, value in values.items():
        if value not in (None, ""):
            query[key] = str(value)
    return query.urlencode()


# Keys of an event's data that hold a model version's database id, by verb
# ("model" in every verb that names one): shown as a link, never as the id.
MODEL_KEYS = {"model": None, "previous": {"model_promoted"}}


def _rows(project, events) -> list[tuple]:
    """(event, its details (key, value), its model links (key, text, url)): the
    ids of model versions become links (models_mgmt's version-by-id page
    answers with the version as users know it)."""
    rows = []
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        details, links = [], []
        for key, value in data.items():
            verbs = MODEL_KEYS.get(key, False)
            if (
                verbs is not False
                and (verbs is None or e.verb in verbs)
                and isinstance(value, int)
                and not isinstance(value, bool)
                and value > 0
            ):
                name = data.get("model_name") if key == "model" else ""
                url = reverse("models_mgmt:version-by-id", args=[project.pk, value])
                links.append((key, name or "the model version", url))
            elif key != "model_name" or not data.get("model"):
                details.append((key, value))
        rows.append((e, details, links))
    return rows


@require_GET
def project_events(request, project_id):
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    context = project_context(request, project, "events")
    members = [m.user for m in selectors.member_list(project=project)]
    form = EventFilterForm(
        request.GET,
        kinds=selectors_events.event_kinds(project=project),
        members=members,
    )
    page = None
    if form.is_valid():
        page = selectors_events.event_page(
            project=project,
            kind=form.cleaned_data["kind"],
            actor=form.cleaned_data["user"] or None,
            before=form.cleaned_data["before"],
            since=form.cleaned_data["since"],
            until=form.cleaned_data["until"],
        )
        if page is None:
            form.add_error("before", "no such event in this project")
    if page is not None:
        context["newest_query"] = _query(form)
        context["older_query"] = page.older and _query(form, before=page.older)
        context["rows"] = _rows(project, page.events)
    context.update(form=form, page=page, paged=bool(request.GET.get("before")))
    # Bad filters: 400, the form keeps what was typed and says why; no events.
    status = 200 if page is not None else 400
    template = "annotate/project_events.html"
    if request.htmx:
        template += "#event-log"
    return render(request, template, context, status=status)
