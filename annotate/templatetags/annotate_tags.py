"""Template filters of the annotate pages."""

from django import template

from annotate.explain import priority_explanation

register = template.Library()


@register.filter
def priority_why(item) -> str:
    """Why the item has its queue priority, in words (annotate.explain)."""
    return priority_explanation(item)


@register.filter
def duration_short(value) -> str:
    """A timedelta as "2 h 05 min", "4 min 10 s" or "12 s"; "—" for None."""
    if value is None:
        return "—"
    seconds = int(round(value.total_seconds()))
    if seconds >= 86400:
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


@register.filter
def percent(value) -> str:
    """A rate in [0, 1] as "42%"; "—" for None."""
    return "—" if value is None else f"{100 * value:.0f}%"
