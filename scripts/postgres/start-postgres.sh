#!/usr/bin/env bash
# start-postgres.sh — start a throw-away PostgreSQL cluster on 127.0.0.1.
#
# Usage: scripts/postgres/start-postgres.sh
#   e.g. eval "$(scripts/postgres/start-postgres.sh)"   # sets PG_PORT, PG_URL, ...
#
# A fresh cluster (initdb) in the run dir, listening on 127.0.0.1 only (its Unix socket in the run
# dir, not /var/run), trust authentication for the superuser `postgres`, fsync and the rest at
# PostgreSQL's defaults. As root, the server runs as the `postgres` OS user (initdb refuses root)
# and the run dir belongs to it. Never touches the machine's own server (5432).
#
# Environment:
#   PG_PORT            port to use (default: a free loopback port). When a cluster started by this
#                      script already runs from its run dir, it is reused (nothing restarted);
#                      after stop-postgres.sh --keep, the same PG_PORT starts it again.
#   PG_RUN_DIR         run dir: data/, postgres.log (default /tmp/gatekeeper-postgres-<port>)
#   PG_BIN             PostgreSQL bin directory (default: see ensure-postgres.sh)
#   PG_START_TIMEOUT   seconds to wait until it accepts connections (default 60)
#   PG_EXTRA_OPTS      extra server options, e.g. "-c max_connections=200"
# stdout (nothing else is printed there; logs go to stderr):
#   PG_PORT=<port>
#   PG_RUN_DIR=<dir>
#   PG_PID=<pid>
#   PG_URL=postgres://postgres@127.0.0.1:<port>/postgres     <- always the last line
set -euo pipefail
GK_NAME=start-postgres
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib.sh
source "$here/lib.sh"

"$here/ensure-postgres.sh" >/dev/null
bin=$(gk_pg_bindir)
timeout=${PG_START_TIMEOUT:-60}
fixed_port=${PG_PORT:-}
if [[ -n "$fixed_port" ]]; then
  gk_is_port "$fixed_port" || gk_die "PG_PORT=$fixed_port is not a port number"
  fixed_port=$((10#$fixed_port))
  (( fixed_port == GK_PG_PROTECTED_PORT )) && gk_die "refusing port $GK_PG_PROTECTED_PORT (the machine's own PostgreSQL); choose another PG_PORT"
fi

print_result() { # <port> <dir> <pid>
  gk_out PG_PORT "$1"
  gk_out PG_RUN_DIR "$2"
  gk_out PG_PID "$3"
  gk_out PG_URL "postgres://postgres@$GK_HOST:$1/postgres"
}

# 0 when the server on <port> (socket in <dir>) accepts connections.
ready() { "$bin/pg_isready" -q -h "$GK_HOST" -p "$1" -t 2 >/dev/null 2>&1; }

# try_start <port>: prints the result and exits 0 once the cluster accepts connections; returns
# (so the caller tries another port) when an automatically chosen port turned out to be taken.
try_start() {
  local port=$1 dir data log pid
  dir=$(gk_pg_run_dir "$port")
  data=$dir/data log=$dir/postgres.log
  pid=$(gk_pg_pid "$data")
  if [[ -n "$pid" ]]; then
    if ready "$port"; then
      gk_log "postgres already running on port $port (pid $pid); reusing it"
      print_result "$port" "$dir" "$pid"
      exit 0
    fi
    gk_die "run dir $dir is in use by a running postgres (pid $pid) that does not answer on port $port; stop it ($here/stop-postgres.sh $dir) or choose another PG_RUN_DIR"
  fi
  if gk_port_open "$port"; then
    [[ -n "$fixed_port" ]] && gk_die "port $port is already in use by a server this script did not start"
    return 0
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  data=$dir/data log=$dir/postgres.log
  local user
  user=$(gk_pg_user)
  [[ "$(id -u)" == 0 ]] && chown "$user" "$dir"
  chmod 700 "$dir"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    local t0
    t0=$(gk_now_ms)
    # --no-sync: a throw-away cluster need not wait for initdb's files to reach the disk.
    gk_pg_as "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; gk_die "initdb failed in $data"; }
    gk_log "initdb $data in $(( $(gk_now_ms) - t0 )) ms"
  fi
  local t0 rc=0
  t0=$(gk_now_ms)
  # Loopback only, socket in the run dir (the default /var/run/postgresql may not exist or not be
  # writable), a port of our own. -W: we wait ourselves, so a taken port is told apart.
  gk_pg_as "$bin/pg_ctl" -D "$data" -l "$log" -W \
    -o "-c listen_addresses=$GK_HOST -p $port -c unix_socket_directories='$dir' ${PG_EXTRA_OPTS:-}" \
    start >&2 || gk_die "pg_ctl start failed; see $log"
  local started deadline
  started=$(date +%s)
  deadline=$(( started + timeout ))
  while ! ready "$port"; do
    if grep -qE 'could not bind|Address already in use' "$log" 2>/dev/null; then rc=2; break; fi
    # The postmaster writes its pid file at once; none after a few seconds means it exited.
    if [[ -z "$(gk_pg_pid "$data")" ]] && (( $(date +%s) > started + 5 )); then rc=1; break; fi
    (( $(date +%s) >= deadline )) && { rc=1; break; }
    sleep 0.1
  done
  if (( rc != 0 )); then
    tail -n 20 "$log" >&2 || true
    gk_pg_as "$bin/pg_ctl" -D "$data" stop -m immediate -w >/dev/null 2>&1 || true
    if (( rc == 2 )) && [[ -z "$fixed_port" ]]; then
      gk_log "port $port was taken meanwhile; trying another"
      rm -rf "$dir"
      return 0
    fi
    gk_die "postgres on port $port did not accept connections within ${timeout}s (log: $log)"
  fi
  pid=$(gk_pg_pid "$data")
  gk_log "$("$bin/postgres" --version) on port $port (pid $pid) ready after $(( $(gk_now_ms) - t0 )) ms; run dir $dir"
  print_result "$port" "$dir" "$pid"
  exit 0
}

if [[ -n "$fixed_port" ]]; then
  try_start "$fixed_port"
  exit 1 # not reached
fi
for _ in 1 2 3 4 5; do
  port=$(gk_free_ports 1) || gk_die "could not find a free port"
  try_start "$port"
done
gk_die "could not start postgres on a free port after 5 attempts"
