#!/usr/bin/env bash
# stop-redis-cluster.sh — stop a cluster started by start-redis-cluster.sh and
# remove its run dir.
#
# Usage: scripts/redis/stop-redis-cluster.sh <run dir>
#        scripts/redis/stop-redis-cluster.sh <port> [<port>...]
#        scripts/redis/stop-redis-cluster.sh 127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3   # = $REDIS_CLUSTER_NODES
#        scripts/redis/stop-redis-cluster.sh     # uses REDIS_CLUSTER_RUN_DIR, else
#                                                # REDIS_CLUSTER_NODES, else REDIS_CLUSTER_BASE_PORT
#
# Every node gets SHUTDOWN NOSAVE (REDIS_PASSWORD, if set), falling back to
# its pidfile (TERM, then KILL); the script waits until each has exited. The
# run dir (default /tmp/gatekeeper-redis-cluster-<first port>) is then deleted
# if this script's marker file is in it (KEEP_RUN_DIR=1 keeps it).
# Stopping a cluster that is not running is not an error (exit 0).
# Refuses port 6379 unless FORCE=1.
set -euo pipefail
GK_NAME=stop-redis-cluster
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib.sh
source "$here/lib.sh"

N=3
MARKER=gatekeeper-redis-cluster.env
command -v redis-cli >/dev/null 2>&1 || gk_die "redis-cli not found; run $here/ensure-redis.sh"

dir=""
ports=()
add_ports() { # words like 17000, 127.0.0.1:17000, "a:1,b:2", redis://h:1
  local w item
  for w in "$@"; do
    IFS=', ' read -r -a items <<<"$w"
    for item in "${items[@]}"; do
      [[ -z "$item" ]] && continue
      item=${item##*:}
      gk_is_port "$item" || gk_die "not a port, host:port or run dir: $item"
      ports+=("$((10#$item))")
    done
  done
}

if (( $# == 1 )) && [[ "$1" == */* && "$1" != redis://* ]]; then
  dir=$1
elif (( $# > 0 )); then
  add_ports "$@"
elif [[ -n "${REDIS_CLUSTER_RUN_DIR:-}" ]]; then
  dir=$REDIS_CLUSTER_RUN_DIR
elif [[ -n "${REDIS_CLUSTER_NODES:-}" ]]; then
  add_ports "$REDIS_CLUSTER_NODES"
elif [[ -n "${REDIS_CLUSTER_BASE_PORT:-}" ]]; then
  gk_is_port "$REDIS_CLUSTER_BASE_PORT" || gk_die "REDIS_CLUSTER_BASE_PORT is not a port"
  b=$((10#$REDIS_CLUSTER_BASE_PORT))
  mapfile -t ports < <(seq "$b" $((b + N - 1)))
else
  gk_die "usage: $0 <run dir> | <port>... | 127.0.0.1:p1,127.0.0.1:p2,...   (or set REDIS_CLUSTER_RUN_DIR / REDIS_CLUSTER_NODES / REDIS_CLUSTER_BASE_PORT)"
fi

if [[ -n "$dir" ]]; then
  if [[ ! -d "$dir" ]]; then
    gk_log "no run dir $dir (already stopped)"
    exit 0
  fi
  dir=$(cd "$dir" && pwd -P)
  if [[ -f "$dir/$MARKER" ]]; then
    IFS=, read -r -a ports <<<"$(sed -n 's/^PORTS=//p' "$dir/$MARKER")"
  else
    for d in "$dir"/*/; do
      p=$(basename "$d")
      gk_is_port "$p" && [[ -f "$d/redis.conf" ]] && ports+=("$p")
    done
  fi
  (( ${#ports[@]} > 0 )) || gk_die "found no nodes in $dir"
else
  dir=${REDIS_CLUSTER_RUN_DIR:-/tmp/gatekeeper-redis-cluster-${ports[0]}}
  if [[ -d "$dir" ]]; then
    dir=$(cd "$dir" && pwd -P)
    # Never delete a run dir while nodes it lists still run: stop those too.
    if [[ -f "$dir/$MARKER" ]]; then
      IFS=, read -r -a listed <<<"$(sed -n 's/^PORTS=//p' "$dir/$MARKER")"
      for p in "${listed[@]}"; do
        [[ " ${ports[*]} " == *" $p "* ]] && continue
        gk_log "$dir also lists port $p; stopping it too"
        ports+=("$p")
      done
    fi
  fi
fi

for p in "${ports[@]}"; do
  if (( p == GK_PROTECTED_PORT )) && [[ "${FORCE:-}" != 1 ]]; then
    gk_die "refusing to stop port $GK_PROTECTED_PORT (the machine's own Redis); set FORCE=1 if you really mean it"
  fi
done

t0=$(gk_now_ms)
failed=0
# Shut the nodes down in parallel, then wait for all of them.
pids=()
for p in "${ports[@]}"; do
  gk_stop_server "$p" "$dir/$p" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
(( failed )) && gk_die "some nodes did not stop; run dir $dir kept"
gk_log "all ${#ports[@]} nodes (${ports[*]}) are down after $(( $(gk_now_ms) - t0 )) ms"

if [[ "${KEEP_RUN_DIR:-}" != 1 && -d "$dir" ]]; then
  if [[ -f "$dir/$MARKER" ]]; then
    rm -rf -- "$dir"
    gk_log "removed $dir"
  else
    gk_log "kept $dir: it has no $MARKER, so this script did not make it"
  fi
fi
