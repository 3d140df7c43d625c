#!/usr/bin/env bash
# stop-postgres.sh — stop a cluster started by start-postgres.sh and remove its run dir.
#
# Usage: scripts/postgres/stop-postgres.sh [--keep] <run dir | port>
#        PG_PORT=<port> scripts/postgres/stop-postgres.sh
#
# `pg_ctl stop -m fast` (as the user the server runs as), waiting until it has exited; then removes
# the run dir unless --keep (or KEEP_RUN_DIR=1) is given. Only a run dir holding a cluster this
# script's start created is touched: the machine's own server on 5432 is refused. Stopping a
# cluster that is not running is not an error (exit 0).
set -euo pipefail
GK_NAME=stop-postgres
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib.sh
source "$here/lib.sh"

keep=${KEEP_RUN_DIR:-0}
if [[ "${1:-}" == --keep ]]; then keep=1; shift; fi
(( $# <= 1 )) || gk_die "usage: $0 [--keep] <run dir | port>"
target=${1:-${PG_PORT:-}}
[[ -n "$target" ]] || gk_die "usage: $0 [--keep] <run dir | port>   (or set PG_PORT)"
if [[ -d "$target" ]]; then
  dir=$(cd "$target" && pwd -P)
else
  port=${target##*:}
  port=${port%%/*}
  gk_is_port "$port" || gk_die "neither a run dir nor a port: $target"
  (( 10#$port == GK_PG_PROTECTED_PORT )) && gk_die "refusing port $GK_PG_PROTECTED_PORT (the machine's own PostgreSQL)"
  dir=$(gk_pg_run_dir "$((10#$port))")
fi
data=$dir/data
if [[ ! -d "$dir" ]]; then
  gk_log "no run dir $dir (already stopped)"
  exit 0
fi
[[ -f "$data/PG_VERSION" || ! -e "$data" ]] || gk_die "$dir holds no cluster made by start-postgres.sh"
pid=$(gk_pg_pid "$data")
if [[ -n "$pid" ]]; then
  bin=$(gk_pg_bindir)
  [[ -n "$bin" ]] || gk_die "pg_ctl not found; run $here/ensure-postgres.sh"
  gk_pg_as "$bin/pg_ctl" -D "$data" stop -m fast -w -t "${PG_STOP_TIMEOUT:-30}" >&2 ||
    { gk_log "fast stop did not finish; stopping immediately"; gk_pg_as "$bin/pg_ctl" -D "$data" stop -m immediate -w >&2; }
  gk_log "stopped postgres (pid $pid) of $dir"
else
  gk_log "postgres of $dir is not running"
fi
if [[ "$keep" != 1 ]]; then rm -rf "$dir"; fi
