"""A second, raw SQLite connection to the test database, for tests about
SQLite's write lock (tests/runs/test_contention.py, tests/test_sqlite_backend.py)."""

import sqlite3
import threading
import time

from django.db import connection


def other_connection() -> sqlite3.Connection:
    return sqlite3.connect(
        connection.settings_dict["NAME"], timeout=20, check_same_thread=False
    )


def hold_write_lock(seconds: float) -> threading.Thread:
    """A second connection takes the write lock and keeps it `seconds`."""
    holder = other_connection()
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE annotate_project SET description = 'held'")

    def release():
        time.sleep(seconds)
        holder.execute("COMMIT")
        holder.close()

    thread = threading.Thread(target=release)
    thread.start()
    return thread
