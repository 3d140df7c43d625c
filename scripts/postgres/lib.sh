#!/usr/bin/env bash
# Shared helpers for the scripts in scripts/postgres/. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# The port search, KEY=value output and TCP checks are Redis's (scripts/redis/lib.sh), so both
# kinds of throw-away server pick ports the same way. Every message goes to stderr.
# shellcheck source=../redis/lib.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../redis" && pwd -P)/lib.sh"
GK_NAME=${GK_NAME:-postgres}

# The machine's own PostgreSQL. Nothing here ever stops or reconfigures it.
# shellcheck disable=SC2034 # used by the scripts that source this file
GK_PG_PROTECTED_PORT=5432

# The directory holding initdb, pg_ctl and postgres: PG_BIN when set, else the newest Debian
# package's /usr/lib/postgresql/<major>/bin (Debian keeps the server binaries off PATH), else
# wherever initdb is on PATH. Prints nothing when none is found.
gk_pg_bindir() {
  if [[ -n "${PG_BIN:-}" ]]; then
    [[ -x "$PG_BIN/initdb" ]] && printf '%s\n' "$PG_BIN"
    return 0
  fi
  local dir best="" best_major=0 major
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]] || continue
    major=$(basename "$(dirname "$dir")")
    [[ "$major" =~ ^[0-9]+$ ]] || continue
    if (( major > best_major )); then best_major=$major best=$dir; fi
  done
  if [[ -n "$best" ]]; then printf '%s\n' "$best"; return 0; fi
  local initdb
  initdb=$(command -v initdb 2>/dev/null || true)
  if [[ -n "$initdb" ]]; then
    initdb=$(readlink -f "$initdb")
    dir=$(dirname "$initdb")
    [[ -x "$dir/pg_ctl" && -x "$dir/postgres" ]] && printf '%s\n' "$dir"
  fi
  return 0
}

# The OS user the server runs as: initdb and postgres refuse to run as root, so root hands them to
# the `postgres` user the Debian package creates; anyone else runs them as themselves.
gk_pg_user() {
  if [[ "$(id -u)" == 0 ]]; then echo postgres; else id -un; fi
}

# gk_pg_as <command...>: runs a server binary as gk_pg_user (through runuser/su when root).
gk_pg_as() {
  if [[ "$(id -u)" != 0 ]]; then "$@"; return; fi
  id postgres >/dev/null 2>&1 || gk_die "running as root and there is no 'postgres' OS user to run the server as (the Debian package creates it)"
  if command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
  fi
}

# The default run dir of a cluster on <port>.
gk_pg_run_dir() { printf '%s\n' "${PG_RUN_DIR:-/tmp/gatekeeper-postgres-$1}"; }

# The postmaster's pid from <data dir>/postmaster.pid when that process is alive; empty otherwise.
gk_pg_pid() {
  local f=$1/postmaster.pid pid
  [[ -f "$f" ]] || return 0
  pid=$(head -n 1 "$f" 2>/dev/null | tr -dc '0-9' || true)
  if [[ -n "$pid" ]] && gk_pid_alive "$pid"; then printf '%s\n' "$pid"; fi
}
