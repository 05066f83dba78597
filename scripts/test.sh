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
# PostgreSQL and Redis are throwaway servers on loopback (scripts/test-services.sh)
# that are stopped on every exit: success, failure or Ctrl-C. Each step's wall
# time is printed at the end. For a quick local run on SQLite only, call pytest
# directly (README, Tests).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PYTEST=("$PY" -m pytest -p no:cacheprovider)

services=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
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
step "SQLite, whole suite" "${PYTEST[@]}" "$@"

# shellcheck disable=SC1091
source "$services/env"
export ALWEB_TEST_REQUIRE_ENGINES=1 # engine-bound tests fail, never skip
step "PostgreSQL, -m postgres" env -u REDIS_URL "${PYTEST[@]}" -m postgres
step "PostgreSQL + Redis, -m redis" "${PYTEST[@]}" -m redis

echo "== wall times"
printf '  %s\n' "${times[@]}"
exit "$failed"
