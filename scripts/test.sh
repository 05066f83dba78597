#!/usr/bin/env bash
# `make test` after ruff: pytest three times, against the engines a deployment
# can run on.
#
#   1. the whole suite on SQLite (the default; arguments go to this run only);
#   2. the tests marked `postgres` (database-bound: queue, claims, drafts,
#      labelling, runs, exports and imports, migrations, role matrices, pages
#      and query counts) on PostgreSQL, in pytest-django's test database;
#   3. the tests marked `redis`: the whole loop on PostgreSQL with the Redis
#      broker and real qcluster processes.
#
# 1 and 2 run side by side, one process each (each has its own var dir, test
# database and free ports): much of each run waits on servers, subprocesses
# and the other engine, so the two fit on 2 cores in little more than the
# SQLite run's time. To even the two lanes out, the SQLite run leaves the
# slowest files (SLOW_FILES: the drills, the determinism check, the error
# analysis figures) to the second lane, which runs them on SQLite right after
# the PostgreSQL run; with pytest arguments the SQLite run takes them all as
# given. The second lane's output is printed after the SQLite run's, whole.
# 3 runs after both.
#
# PostgreSQL and Redis are throwaway servers on loopback (scripts/test-services.sh)
# that are stopped on every exit: success, failure or Ctrl-C. Each step's wall
# time is printed at the end. For a quick local run on SQLite only, call pytest
# directly (README, Tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PYTEST=("$PY" -m pytest -p no:cacheprovider --durations=15)

services=""
pg_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "${pg_pid:-}" ] && kill -0 "$pg_pid" 2>/dev/null; then
    pkill -TERM -P "$pg_pid" 2>/dev/null || true # the PostgreSQL run's pytest
    wait "$pg_pid" 2>/dev/null || true
  fi
  if [ -n "$services" ]; then bash scripts/test-services.sh stop "$services"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Every step runs even if an earlier one failed (all failures in one go); the
# script fails if any did.
times=()
failed=0
step() {
  local name=$1 t0=$SECONDS rc=0
  shift
  echo "== $name"
  "$@" || rc=$?
  times+=("$name: $((SECONDS - t0)) s$([ "$rc" = 0 ] || echo ", FAILED (exit $rc)")")
  [ "$rc" = 0 ] || failed=1
}

# Servers first: a missing one fails the run at once (exit 1), not after step 1.
services=$(mktemp -d "${TMPDIR:-/tmp}/alweb-test-services.XXXXXX")
bash scripts/test-services.sh start "$services"

# A DATABASE_URL or REDIS_URL from the caller's shell must not leak into the
# SQLite run (nor point the other runs at a server of theirs).
unset DATABASE_URL REDIS_URL
# The slowest files of the whole suite (30-45 s each on 2 cores), run on SQLite
# in the second lane after the PostgreSQL run when no pytest arguments are given.
SLOW_FILES=(
  tests/runs/test_drill.py
  tests/runs/test_drill_workers.py
  tests/ml/test_error_analysis_figures.py
  tests/test_determinism.py
  tests/api/test_drill_annotators.py
)
slow=()
sqlite_args=("$@")
sqlite_title="SQLite, pytest $* (beside the second lane)"
if [ $# = 0 ]; then
  slow=("${SLOW_FILES[@]}")
  for f in "${slow[@]}"; do sqlite_args+=("--ignore=$f"); done
  sqlite_title="SQLite, whole suite but the slowest files (beside the second lane)"
fi

lane="$services/lane2"
mkdir "$lane"
# Runs one pytest of the second lane: its output to $lane/NAME.log, its exit
# status and seconds to $lane/NAME.rc.
lane_run() {
  local name=$1 t0=$SECONDS rc=0
  shift
  "$@" >"$lane/$name.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - t0))" >"$lane/$name.rc"
}
# Prints one second-lane run's output and records its time and status.
lane_report() {
  local name=$1 title=$2 rc secs
  echo "== $title"
  cat "$lane/$name.log" 2>/dev/null || true
  read -r rc secs <"$lane/$name.rc" || { rc=1; secs="?"; }
  times+=("$title: $secs s$([ "$rc" = 0 ] || echo ", FAILED (exit $rc)")")
  [ "$rc" = 0 ] || failed=1
}
(
  # shellcheck disable=SC1091
  source "$services/env"
  # engine-bound tests fail, never skip
  lane_run postgres env -u REDIS_URL ALWEB_TEST_REQUIRE_ENGINES=1 "${PYTEST[@]}" -m postgres
  if [ ${#slow[@]} -gt 0 ]; then
    lane_run slow env -u DATABASE_URL -u REDIS_URL "${PYTEST[@]}" "${slow[@]}"
  fi
) &
pg_pid=$!
step "$sqlite_title" "${PYTEST[@]}" "${sqlite_args[@]}"

wait "$pg_pid" || true
lane_report postgres "PostgreSQL, -m postgres (second lane, beside the SQLite run)"
if [ ${#slow[@]} -gt 0 ]; then
  lane_report slow "SQLite, the slowest files (second lane, after the PostgreSQL run)"
fi

# shellcheck disable=SC1091
source "$services/env"
export ALWEB_TEST_REQUIRE_ENGINES=1
step "PostgreSQL + Redis, -m redis" "${PYTEST[@]}" -m redis

echo "== wall times"
printf '  %s\n' "${times[@]}"
exit "$failed"
