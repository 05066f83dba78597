"""Django's SQLite backend, but a write transaction that finds the write lock
taken asks again every millisecond instead of in SQLite's growing sleeps.

Why: SQLite has one write lock, and a connection that finds it taken sleeps in
its busy handler 1, 2, 5, 10, 15, 20, 25 ... then 100 ms at a time before it
asks again. Under load the lock sits free while the waiters sleep, and the
longer one has waited the longer it sleeps (bench/drill_annotators.py --trace:
the tail of claim-next, draft and submit was that wait). Here the BEGIN
IMMEDIATE that starts every atomic block (settings: transaction_mode) runs
with SQLite's busy timeout off and is retried every _RETRY_SECONDS until the
connection's busy timeout (OPTIONS["timeout"], 20 s) has passed, then fails
with SQLite's own "database is locked". Every other statement keeps SQLite's
busy handler and timeout.
"""

import sqlite3
import time

from django.db.backends.sqlite3 import base

_RETRY_SECONDS = 0.001


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        raw = self.connection
        begin = f"BEGIN {self.transaction_mode or ''}".strip()
        with self.wrap_database_errors:
            # The connection's own timeout (OPTIONS["timeout"], or a PRAGMA).
            (timeout_ms,) = raw.execute("PRAGMA busy_timeout").fetchone()
            raw.execute("PRAGMA busy_timeout = 0")
            try:
                _begin_retrying(raw, begin, time.monotonic() + timeout_ms / 1000)
            finally:
                raw.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


def _begin_retrying(raw, begin: str, deadline: float) -> None:
    while True:
        try:
            raw.execute(begin)
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(_RETRY_SECONDS)
