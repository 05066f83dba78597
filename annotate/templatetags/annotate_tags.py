"""Template filters of the annotate pages."""

from django import template

from annotate.explain import priority_explanation

register = template.Library()


@register.filter
def priority_why(item) -> str:
    """Why the item has its queue priority, in words (annotate.explain)."""
    return priority_explanation(item)
