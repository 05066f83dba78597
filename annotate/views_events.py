"""The event log page: who did what and when, newest first, filtered by kind and
by who, one keyset page at a time."""

from django.http import QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors, selectors_events
from annotate.forms import EventFilterForm


def _query(form, **changes) -> str:
    """The filters of `form` with `changes`, as a query string (empty kept out)."""
    query = QueryDict(mutable=True)
    values = {k: form.cleaned_data.get(k) for k in ("kind", "user")}
    values.update(changes)
    for key, value in values.items():
        if value not in (None, ""):
            query[key] = str(value)
    return query.urlencode()


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
        )
        if page is None:
            form.add_error("before", "no such event in this project")
    if page is not None:
        context["newest_query"] = _query(form)
        context["older_query"] = page.older and _query(form, before=page.older)
    context.update(form=form, page=page, paged=bool(request.GET.get("before")))
    # Bad filters: 400, the form keeps what was typed and says why; no events.
    status = 200 if page is not None else 400
    template = "annotate/project_events.html"
    if request.htmx:
        template += "#event-log"
    return render(request, template, context, status=status)
