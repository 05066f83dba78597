"""Template helpers for run rows: which of Cancel / Retry the user may press."""

from django import template

from runs.selectors import run_actions_for_user

register = template.Library()


@register.filter
def run_actions(job, user) -> dict[str, bool]:
    """`{% with acts=run|run_actions:request.user %}`: {"cancel", "retry"}."""
    return run_actions_for_user(user=user, job=job)
