"""Reads of the event log page: one bounded page of a project's events, newest
first, by keyset (never OFFSET), filtered by kind and by who."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from annotate.models import Event, Project

EVENT_PAGE_SIZE = 50
SYSTEM = "system"  # the `actor` filter for events no user caused


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    older: int | None  # the `before` of the next (older) page, None at the end


def event_kinds(*, project: Project) -> list[str]:
    """The kinds (verbs) of event the project has, sorted."""
    verbs = (
        Event.objects.filter(project=project)
        .order_by("verb")
        .values_list("verb", flat=True)
        .distinct()
    )
    return list(verbs)


def event_page(
    *,
    project: Project,
    kind: str = "",
    actor: str | int | None = None,
    before: int | None = None,
    since: date | None = None,
    until: date | None = None,
    size: int = EVENT_PAGE_SIZE,
) -> EventPage | None:
    """Up to `size` events of `project` older than event `before` (from the
    newest when None), newest first; `kind` keeps one verb, `actor` one user id
    or SYSTEM; `since` and `until` keep the days from and to (both included,
    whole days in the site's time zone). None when `before` names no event of
    the project.

    The keyset is (created_at, id), the order of Event.Meta and of its
    (project, -created_at) index, so every page costs the same.
    """
    events = Event.objects.filter(project=project)
    if before is not None:
        at = events.filter(pk=before).values_list("created_at", flat=True).first()
        if at is None:
            return None
        events = events.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=before))
    if since is not None:
        events = events.filter(created_at__gte=_midnight(since))
    if until is not None:
        events = events.filter(created_at__lt=_midnight(until + timedelta(days=1)))
    if kind:
        events = events.filter(verb=kind)
    if actor == SYSTEM:
        events = events.filter(actor__isnull=True)
    elif actor is not None:
        events = events.filter(actor_id=actor)
    rows = list(
        events.select_related("actor", "item").order_by("-created_at", "-id")[
            : size + 1
        ]
    )
    older = rows[size - 1].pk if len(rows) > size else None
    return EventPage(events=rows[:size], older=older)


def _midnight(day: date) -> datetime:
    """The start of `day` in the site's time zone, as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))
