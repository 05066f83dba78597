"""django-q2 entry points of runs (housekeeping cluster): load, call one service."""

from runs.services import runs_reap


def reap() -> list[int]:
    return runs_reap()
