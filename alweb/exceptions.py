"""Domain errors shared by every app's services and mapped to HTTP codes by the
views (alweb.api.exception_handler for the API)."""


class Conflict(Exception):
    """State changed under the caller: lease lost, stale version, done (409)."""

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra
