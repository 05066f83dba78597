"""Retry of writes that the database answers busy or locked (bounded backoff).

SQLite in WAL mode answers SQLITE_BUSY when the write lock is held past the busy
timeout, and SQLITE_BUSY_SNAPSHOT at once when a connection writes from a stale
read snapshot; PostgreSQL answers serialization failures and deadlocks. All are
safe to retry from the start, outside any transaction.
"""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

logger = logging.getLogger(__name__)
T = TypeVar("T")

_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")
_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock


def is_busy_error(exc: BaseException) -> bool:
    """True for a database error that a later attempt may not get."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc).lower()
    if any(message in text for message in _BUSY_MESSAGES):
        return True
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) in _RETRYABLE_SQLSTATES


def retry_busy(
    write: Callable[[], T],
    *,
    attempts: int | None = None,
    first_delay: float = 0.05,
    max_delay: float = 2.0,
    using: str = DEFAULT_DB_ALIAS,
) -> T:
    """Call `write` until it returns, retrying busy/locked errors with doubling
    delays (0.05 s up to 2 s; about 7 s of sleep in all for the default 8
    attempts, settings.ALWEB_DB_BUSY_RETRIES) and raising the last one.

    Inside a transaction it calls `write` once: the error has broken the
    transaction, so only its owner can start it again."""
    if connections[using].in_atomic_block:
        return write()
    attempts = attempts or getattr(settings, "ALWEB_DB_BUSY_RETRIES", 8)
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except OperationalError as exc:
            if not is_busy_error(exc) or attempt == attempts:
                raise
            logger.warning(
                "database busy, retrying in %.2f s (attempt %d of %d): %s",
                delay,
                attempt + 1,
                attempts,
                exc,
            )
            time.sleep(delay)
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")  # pragma: no cover
