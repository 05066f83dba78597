#!/usr/bin/env bash
# Prepare the database and start gunicorn (web) and one qcluster per queue:
# housekeeping (the default cluster: reaper and schedules), training, and work
# (scoring, exports, imports, KPI checks), and gpu (training on an accelerator)
# when torch sees one on this machine. Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST="${ALWEB_HOST:-127.0.0.1}"
PORT="${ALWEB_PORT:-8000}"
QUEUES=(alweb training work) # Q_CLUSTER_NAME of each qcluster (alweb/settings.py)
if $PY -c "from ml.backends.ultralytics.devices import accelerator as a; raise SystemExit(a() is None)" 2>/dev/null; then
  QUEUES+=(gpu)
fi

$PY manage.py migrate --noinput -v0
$PY manage.py createcachetable
$PY manage.py collectstatic --noinput -v0
$PY manage.py check --fail-level ERROR >/dev/null
if [ "${ALWEB_DEMO:-1}" = "1" ]; then
  $PY manage.py demo --url "http://$HOST:$PORT/"
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  # SIGTERM to each server process only: gunicorn's master and each qcluster's
  # sentinel stop their own workers (a qcluster whose workers get the signal
  # too waits forever).
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Give them 20 s to finish their current request or task, then stop each
  # process group hard (a run cut short is marked failed by the reaper and can
  # be retried).
  for _ in $(seq 20); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap cleanup INT TERM EXIT

# Each server in a process group of its own (setsid): Ctrl-C reaches this
# script only, and the hard stop reaches every process a server started.
for queue in "${QUEUES[@]}"; do
  Q_CLUSTER_NAME="$queue" setsid $PY manage.py qcluster &
  pids+=($!)
done
# 3 processes x 3 threads: fewer threads per process wait less for the GIL, and
# on SQLite the thread that holds the write lock is held up less by its
# siblings (bench/RESULTS.md, the sixth machine: paced claim-next p95 86 ms,
# the median of 5 drill runs, against 112 with 2 x 4; the same no-pause rounds/s).
setsid .venv/bin/gunicorn alweb.wsgi:application \
  --bind "$HOST:$PORT" \
  --workers "${ALWEB_WEB_WORKERS:-3}" --threads "${ALWEB_WEB_THREADS:-3}" \
  --timeout 120 --access-logfile - &
pids+=($!)
echo "alweb is running on http://$HOST:$PORT/ with queues ${QUEUES[*]} (Ctrl-C stops all)"
wait -n "${pids[@]}"
