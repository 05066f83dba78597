"""Domain errors raised by services and mapped to HTTP codes by the views.

Conflict lives in runs (the base app every app may import) so that runs' own
services raise the same class; it is re-exported here for annotate's callers.
"""

from runs.errors import Conflict

__all__ = ["Conflict"]
