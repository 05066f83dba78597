"""The Work page: progress toward the goal, queue depth, throughput per
annotator and reviewer over a window, time to ground truth; every figure a
link to the items behind it."""

from django.contrib import messages
from django.shortcuts import render
from django.views.decorators.http import require_GET

from alweb.pages import project_context
from alweb.roles import Perm
from annotate import selectors
from annotate.selectors_work import (
    TASK_TIME_CAP,
    WINDOW_NAMES,
    WINDOWS,
    work_summary,
)

STATUS_COLOURS = {
    "unlabeled": "#9ca3af",
    "labeling": "#f59e0b",
    "review": "#3b82f6",
    "done": "#16a34a",
    "skipped": "#6b7280",
}
SPLIT_COLOURS = {"train": "#4363d8", "val": "#f58231", "test": "#911eb4"}
BAR_WIDTH = 600


def _segments(counts: dict[str, int], colours: dict[str, str], param: str) -> list:
    """A stacked bar's parts in SVG units: (name, n, x, width, colour, filter)."""
    total = sum(counts.values())
    parts, x = [], 0.0
    for name, n in counts.items():
        width = BAR_WIDTH * n / total if total else 0.0
        parts.append(
            {
                "name": name,
                "n": n,
                "x": round(x, 2),
                "w": round(width, 2),
                "colour": colours.get(name, "#999"),
                "query": f"{param}={name}",
            }
        )
        x += width
    return parts


@require_GET
def project_work(request, project_id):
    """Managers' figures; an unknown window answers 400 with the reason and
    the figures of the default window."""
    project = selectors.project_get_for_user(
        user=request.user, project_id=project_id, perm=Perm.VIEW_DASHBOARD
    )
    typed = request.GET.get("window", "7d")
    status = 200
    try:
        summary = work_summary(project=project, window=typed)
    except ValueError as exc:
        messages.error(request, str(exc))
        status = 400
        summary = work_summary(project=project)
    context = project_context(request, project, "work")
    goal_width = None
    if summary.goal_percent is not None:
        goal_width = round(BAR_WIDTH * summary.goal_percent / 100, 2)
    context.update(
        work=summary,
        typed_window=typed[:20],
        windows=[(key, WINDOW_NAMES[key]) for key in WINDOWS],
        bar_width=BAR_WIDTH,
        cap_minutes=int(TASK_TIME_CAP.total_seconds() // 60),
        goal_width=goal_width,
        status_bar=_segments(summary.statuses, STATUS_COLOURS, "status"),
        split_bar=_segments(summary.splits, SPLIT_COLOURS, "split"),
    )
    return render(request, "annotate/project_work.html", context, status=status)
