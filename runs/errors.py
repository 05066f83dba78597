"""Domain errors shared by the apps' services and mapped to HTTP codes by views."""


class Conflict(Exception):
    """State changed under the caller: lease lost, stale version, done (409)."""

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra


class RunStopped(Exception):
    """Raised inside a run when its row is no longer running (cancelled or reaped):
    the worker stops and writes nothing more."""
