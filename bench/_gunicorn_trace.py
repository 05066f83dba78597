"""A gunicorn config file for `drill_annotators.py --trace`: where each request's
wall time goes, written by the workers themselves.

Per request, one tab-separated line in $ALWEB_TRACE_DIR/trace-<pid>.tsv:
method, path (digits as N), status, wall ms, the thread's CPU ms, ms in
`BEGIN` (SQLite's IMMEDIATE: the wait for the write lock), BEGIN count, ms in
COMMIT, ms in other SQL, statement count, ms the request held SQLite's write
lock (from the end of each BEGIN to the end of its COMMIT or ROLLBACK; 0 on
PostgreSQL, which has no such lock), then each statement that took SLOW_MS or
more as "ms:its first 70 characters", joined by " | " (a statement's time
includes the wait for the GIL once the database answers). Wall
minus CPU minus SQL is the time the thread waited for the GIL or a core.
Bench only: it patches Django's database wrapper classes in the worker after
the app is loaded.
"""

import os
import re
import threading
import time

_local = threading.local()
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
SLOW_MS = 2.0  # a statement this slow is named in the trace's last column


def _words(sql: str) -> str:
    """A statement's first 70 characters on one line, without the separators
    the trace's columns use (tabs, newlines, " | ")."""
    return _SPACE.sub(" ", str(sql)).replace("|", "/")[:70]


def _timed(bucket: str, count: str | None, func):
    def wrapper(*args, **kwargs):
        spent = getattr(_local, "spent", None)
        if spent is None or getattr(_local, "inside", False):
            return func(*args, **kwargs)
        _local.inside = True
        t0 = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            took = time.perf_counter() - t0
            spent[bucket] += took
            if bucket == "sql" and took * 1000 >= SLOW_MS:
                # args: the cursor wrapper, the SQL, its parameters
                spent["slow"].append(f"{took * 1000:.1f}:{_words(args[1])}")
            if count:
                spent[count] += 1
            _local.inside = False

    return wrapper


def _held_from_here(func):
    """BEGIN: the write lock is held from its end."""

    def wrapper(*args, **kwargs):
        result = func(*args, **kwargs)
        if getattr(_local, "spent", None) is not None:
            _local.held_since = time.perf_counter()
        return result

    return wrapper


def _held_until_here(func):
    """COMMIT or ROLLBACK: the write lock is free at its end."""

    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            since = getattr(_local, "held_since", None)
            spent = getattr(_local, "spent", None)
            if since is not None and spent is not None:
                spent["held"] += time.perf_counter() - since
            _local.held_since = None

    return wrapper


def _patch_django() -> None:
    from django.db import connections
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.utils import CursorWrapper

    wrapper = type(connections["default"])  # alweb.sqlite's, on SQLite
    if hasattr(wrapper, "_start_transaction_under_autocommit"):
        wrapper._start_transaction_under_autocommit = _held_from_here(
            _timed("begin", "n_begin", wrapper._start_transaction_under_autocommit)
        )
    BaseDatabaseWrapper._commit = _held_until_here(
        _timed("commit", None, BaseDatabaseWrapper._commit)
    )
    BaseDatabaseWrapper._rollback = _held_until_here(BaseDatabaseWrapper._rollback)
    CursorWrapper.execute = _timed("sql", "n_sql", CursorWrapper.execute)
    CursorWrapper.executemany = _timed("sql", "n_sql", CursorWrapper.executemany)


def post_worker_init(worker):
    _patch_django()
    path = os.path.join(os.environ["ALWEB_TRACE_DIR"], f"trace-{os.getpid()}.tsv")
    out = open(path, "a", buffering=1)  # noqa: SIM115 (open for the worker's life)
    write_lock = threading.Lock()
    app = worker.wsgi

    def traced(environ, start_response):
        status = []

        def recording_start(code, headers, *rest):
            status.append(code.split(" ", 1)[0])
            return start_response(code, headers, *rest)

        _local.spent = dict.fromkeys(("begin", "commit", "sql", "held"), 0.0)
        _local.held_since = None
        _local.spent.update(n_begin=0, n_sql=0, slow=[])
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            body = app(environ, recording_start)
            chunks = list(body)  # Django's work is done once the body is read
            if hasattr(body, "close"):
                body.close()  # request_finished: the connection closes here
            return chunks
        finally:
            wall = (time.perf_counter() - w0) * 1000
            cpu = (time.thread_time() - c0) * 1000
            s = _local.spent
            _local.spent = None
            path = _DIGITS.sub("N", environ.get("PATH_INFO", ""))
            line = "\t".join(
                [
                    environ.get("REQUEST_METHOD", ""),
                    path,
                    status[0] if status else "-",
                    f"{wall:.2f}",
                    f"{cpu:.2f}",
                    f"{s['begin'] * 1000:.2f}",
                    str(s["n_begin"]),
                    f"{s['commit'] * 1000:.2f}",
                    f"{s['sql'] * 1000:.2f}",
                    str(s["n_sql"]),
                    f"{s['held'] * 1000:.2f}",
                    " | ".join(s["slow"]),
                ]
            )
            with write_lock:
                out.write(line + "\n")

    worker.wsgi = traced


def summarize(folder: str) -> None:
    """Print, per endpoint, p50/p95 of each part of the wall time, what the
    slowest 5 % of its requests spent their time on (means), and the
    statements most often slow (4 x SLOW_MS or more)."""
    from collections import Counter
    from pathlib import Path

    rows: dict[str, list[list[float]]] = {}
    slow: dict[str, Counter] = {}
    for path in Path(folder).glob("trace-*.tsv"):
        for line in path.read_text().splitlines():
            method, url, _status, *nums, statements = line.split("\t")
            rows.setdefault(f"{method} {url}", []).append([float(n) for n in nums])
            for statement in filter(None, statements.split(" | ")):
                ms, sql = statement.split(":", 1)
                if float(ms) >= 4 * SLOW_MS:
                    slow.setdefault(f"{method} {url}", Counter())[sql[:40]] += 1
    print("== where the time went, inside gunicorn (ms; --trace) ==")
    print(
        "endpoint | n | wall p50/p95 | cpu p50/p95 | BEGIN wait p50/p95 | "
        "write lock held p50/p95 | "
        "slowest 5 %: wall, cpu, BEGIN, COMMIT, other SQL, rest (GIL/core)"
    )
    for name, values in sorted(rows.items(), key=lambda kv: -len(kv[1])):
        if len(values) < 20:
            continue
        cols = list(zip(*values, strict=True))

        def p(i, q, cols=cols):
            ordered = sorted(cols[i])
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        tail = sorted(values, key=lambda v: v[0])[int(0.95 * len(values)) :]
        mean = [sum(v[i] for v in tail) / len(tail) for i in range(len(cols))]
        rest = mean[0] - mean[1] - mean[2] - mean[4] - mean[5]
        print(
            f"{name} | {len(values)} | {p(0, 0.5):.1f}/{p(0, 0.95):.1f} | "
            f"{p(1, 0.5):.1f}/{p(1, 0.95):.1f} | {p(2, 0.5):.1f}/{p(2, 0.95):.1f} | "
            f"{p(7, 0.5):.1f}/{p(7, 0.95):.1f} | "
            f"{mean[0]:.1f}, {mean[1]:.1f}, {mean[2]:.1f}, {mean[4]:.1f}, "
            f"{mean[5]:.1f}, {rest:.1f}"
        )
        common = slow.get(name, Counter()).most_common(3)
        if common:
            named = "; ".join(f"{n}x {sql}" for sql, n in common)
            print(f"    {4 * SLOW_MS:.0f} ms or more, most often: {named}")
