"""The event log: who did what and when."""

from annotate.models import Event


def event_log(
    *, project_id: int, actor=None, verb: str, item_id: int | None = None, **data
) -> Event:
    """Append one event; call inside the transaction of the change it records."""
    return Event.objects.create(
        project_id=project_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        item_id=item_id,
        data=data,
    )
