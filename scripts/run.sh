#!/usr/bin/env bash
# Prepare the database and start gunicorn (web) and a qcluster (worker) together.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST="${ALWEB_HOST:-127.0.0.1}"
PORT="${ALWEB_PORT:-8000}"

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
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Give both 20 s to finish their current request or task, then stop them hard
  # (a run cut short is marked failed by the reaper and can be retried).
  for _ in $(seq 20); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return
    sleep 1
  done
  for pid in "${pids[@]}"; do
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  done
}
trap cleanup INT TERM EXIT

$PY manage.py qcluster &
pids+=($!)
.venv/bin/gunicorn alweb.wsgi:application \
  --bind "$HOST:$PORT" \
  --workers "${ALWEB_WEB_WORKERS:-2}" --threads "${ALWEB_WEB_THREADS:-4}" \
  --timeout 120 --access-logfile - &
pids+=($!)
echo "alweb is running on http://$HOST:$PORT/ (Ctrl-C stops web and worker)"
wait -n "${pids[@]}"
