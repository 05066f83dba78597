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
# SQLite run's time. The PostgreSQL run's output is printed after the SQLite
# run's, whole. 3 runs after both.
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
pg_log="$services/postgres-run.log"
pg_rc="$services/postgres-run.rc"
pg_t0=$SECONDS
(
  # shellcheck disable=SC1091
  source "$services/env"
  export ALWEB_TEST_REQUIRE_ENGINES=1 # engine-bound tests fail, never skip
  rc=0
  env -u REDIS_URL "${PYTEST[@]}" -m postgres >"$pg_log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - pg_t0))" >"$pg_rc"
) &
pg_pid=$!
step "SQLite, whole suite (PostgreSQL's run beside it)" "${PYTEST[@]}" "$@"

echo "== PostgreSQL, -m postgres (ran beside the SQLite run; its output)"
wait "$pg_pid" || true
cat "$pg_log"
read -r rc secs <"$pg_rc" || { rc=1; secs=$((SECONDS - pg_t0)); }
times+=("PostgreSQL, -m postgres: $secs s$([ "$rc" = 0 ] || echo ", FAILED (exit $rc)")")
[ "$rc" = 0 ] || failed=1

# shellcheck disable=SC1091
source "$services/env"
export ALWEB_TEST_REQUIRE_ENGINES=1
step "PostgreSQL + Redis, -m redis" "${PYTEST[@]}" -m redis

echo "== wall times"
printf '  %s\n' "${times[@]}"
exit "$failed"
