"""Errors of background runs (Conflict, shared by every app, is alweb.exceptions)."""


class RunStopped(Exception):
    """Raised inside a run when its row is no longer running (cancelled or reaped):
    the worker stops and writes nothing more."""
