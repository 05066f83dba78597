#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers for the tests, on loopback, as
# unprivileged processes whose files all live in one folder.
#
#   scripts/test-services.sh start DIR   start both; writes DIR/env (DATABASE_URL,
#                                        REDIS_URL) for `source`
#   scripts/test-services.sh stop DIR    stop whatever DIR holds, remove DIR
#
# Run as root, PostgreSQL runs as the `postgres` user and Redis as `redis` (the
# users their Debian packages create); otherwise as the calling user. Ports are
# free ones the kernel picks. PostgreSQL runs without fsync: a crash loses only
# a test database. `start` fails loudly (exit 1) if a server is not installed or
# does not come up; `stop` never fails.
set -euo pipefail

die() {
  echo "test-services: $*" >&2
  exit 1
}

pg_bindir() {
  local bin
  bin=$(command -v pg_ctl 2>/dev/null || true)
  if [ -z "$bin" ]; then
    bin=$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -1 || true)
  fi
  [ -n "$bin" ] || die "PostgreSQL is not installed (apt-get install postgresql)"
  dirname "$(readlink -f "$bin")"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# as USER CMD...: run CMD as USER when root, as ourselves otherwise.
as() {
  local user=$1
  shift
  if [ "$(id -u)" = 0 ]; then
    id "$user" >/dev/null 2>&1 || die "user $user does not exist (is its package installed?)"
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

start() {
  local dir=$1 bindir pg_port redis_port redis_bin
  bindir=$(pg_bindir)
  redis_bin=$(command -v redis-server 2>/dev/null || true)
  [ -n "$redis_bin" ] || die "Redis is not installed (apt-get install redis-server)"
  mkdir -p "$dir/pg" "$dir/redis"
  if [ "$(id -u)" = 0 ]; then
    for user in postgres redis; do
      id "$user" >/dev/null 2>&1 || die "user $user does not exist (is its package installed?)"
    done
    chmod 755 "$dir"
    chown postgres: "$dir/pg"
    chown redis: "$dir/redis"
  fi

  pg_port=$(free_port)
  as postgres "$bindir/initdb" -D "$dir/pg/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/pg/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -5 "$dir/pg/initdb.log")"
  # setsid: Ctrl-C in the terminal reaches the test script, which stops the
  # server itself (cleanly) rather than the server stopping half-way.
  as postgres setsid -w "$bindir/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/pg -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || die "PostgreSQL did not start: $(tail -20 "$dir/pg/server.log")"
  echo "$bindir" >"$dir/pg/bindir"
  as postgres "$bindir/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -qAt \
    -c "CREATE DATABASE alweb" >/dev/null || die "could not create the database alweb"

  redis_port=$(free_port)
  as redis "$redis_bin" --bind 127.0.0.1 --port "$redis_port" --save "" \
    --appendonly no --daemonize yes --dir "$dir/redis" \
    --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" ||
    die "Redis did not start"
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG ||
    die "Redis does not answer: $(tail -20 "$dir/redis/redis.log")"

  cat >"$dir/env" <<EOF
export DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/alweb
export REDIS_URL=redis://127.0.0.1:$redis_port/0
EOF
  echo "test-services: PostgreSQL on 127.0.0.1:$pg_port, Redis on 127.0.0.1:$redis_port ($dir)"
}

stop() {
  local dir=$1 pid
  [ -d "$dir" ] || return 0
  if [ -f "$dir/pg/data/postmaster.pid" ]; then
    as postgres "$(cat "$dir/pg/bindir")/pg_ctl" -D "$dir/pg/data" -m fast -w -t 30 \
      stop >/dev/null 2>&1 || {
      pid=$(head -1 "$dir/pg/data/postmaster.pid" 2>/dev/null || true)
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    }
  fi
  if [ -f "$dir/redis/redis.pid" ]; then
    pid=$(cat "$dir/redis/redis.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir"
}

[ -n "${2:-}" ] || die "usage: $0 start|stop DIR"
dir=$(realpath -m "$2")
# The servers' users may not enter the caller's directory: work from /.
cd /
case "${1:-}" in
start) start "$dir" ;;
stop) stop "$dir" || true ;;
*) die "usage: $0 start|stop DIR" ;;
esac
