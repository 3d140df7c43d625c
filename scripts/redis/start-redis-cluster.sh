#!/usr/bin/env bash
# start-redis-cluster.sh — start a throw-away local Redis Cluster: 3 masters,
# no replicas, on 127.0.0.1.
#
# Usage: scripts/redis/start-redis-cluster.sh
#   e.g. eval "$(scripts/redis/start-redis-cluster.sh)"  # sets REDIS_CLUSTER_NODES, ...
#        REDIS_CLUSTER_BASE_PORT=17000 scripts/redis/start-redis-cluster.sh
#
# Environment:
#   REDIS_CLUSTER_BASE_PORT  use ports BASE, BASE+1, BASE+2 (their cluster bus
#                            ports are +10000). Default: free loopback ports.
#                            If a healthy cluster started by this script already
#                            runs there, it is reused (nothing restarted).
#   REDIS_CLUSTER_RUN_DIR    run dir (default /tmp/gatekeeper-redis-cluster-<first port>);
#                            one sub dir per node: <port>/{redis.conf,nodes.conf,redis.pid,redis.log}
#   REDIS_PASSWORD           requirepass + masterauth on every node
#   REDIS_CLUSTER_TIMEOUT    seconds to wait for cluster_state:ok (default 30)
#   REDIS_CLUSTER_NODE_TIMEOUT  cluster-node-timeout in ms (default 2000; lower
#                            gossips faster, so the cluster forms sooner)
#
# Each node: cluster-enabled yes, bind 127.0.0.1, daemonized, no persistence.
# The cluster is made with
#   redis-cli --cluster create <nodes> --cluster-replicas 0 --cluster-yes
# and the script waits until CLUSTER INFO says cluster_state:ok (all 16384
# slots ok, 3 known nodes) on every node.
# stdout (logs go to stderr):
#   REDIS_CLUSTER_RUN_DIR=<dir>
#   REDIS_CLUSTER_PORTS=<p1>,<p2>,<p3>
#   REDIS_CLUSTER_NODES=127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>   <- always the last line
# Stop it with: scripts/redis/stop-redis-cluster.sh <run dir>   (or the ports)
set -euo pipefail
GK_NAME=start-redis-cluster
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib.sh
source "$here/lib.sh"

"$here/ensure-redis.sh"

N=3
MARKER=gatekeeper-redis-cluster.env
timeout=${REDIS_CLUSTER_TIMEOUT:-30}
base=${REDIS_CLUSTER_BASE_PORT:-}
if [[ -n "$base" ]]; then
  gk_is_port "$base" || gk_die "REDIS_CLUSTER_BASE_PORT=$base is not a port number"
  base=$((10#$base))
  (( base + N - 1 + 10000 <= 65535 )) || gk_die "REDIS_CLUSTER_BASE_PORT=$base is too high: port+10000 (the cluster bus port) must be <= 65535"
fi

# 0 when every node on the given ports reports a complete, healthy cluster.
cluster_ok() {
  local p info
  for p in "$@"; do
    info=$(gk_cli "$p" cluster info 2>/dev/null | tr -d '\r') || return 1
    grep -qx 'cluster_state:ok' <<<"$info" || return 1
    grep -qx 'cluster_slots_ok:16384' <<<"$info" || return 1
    grep -qx "cluster_known_nodes:$N" <<<"$info" || return 1
  done
}

print_result() { # <dir> <ports...>
  local dir=$1; shift
  local ports nodes p
  ports=$(IFS=,; echo "$*")
  nodes=""
  for p in "$@"; do nodes+="${nodes:+,}$GK_HOST:$p"; done
  gk_out REDIS_CLUSTER_RUN_DIR "$dir"
  gk_out REDIS_CLUSTER_PORTS "$ports"
  gk_out REDIS_CLUSTER_NODES "$nodes"
}

# Stop the nodes of a run dir (by its pidfiles) and delete it.
wipe_run_dir() {
  local dir=$1 d p
  for d in "$dir"/*/; do
    p=$(basename "$d")
    gk_is_port "$p" || continue
    if [[ -n "$(gk_pidfile_pid "$d/redis.pid")" ]]; then gk_stop_server "$p" "${d%/}" || true; fi
  done
  rm -rf -- "$dir"
}

started_dir=""
# shellcheck disable=SC2317 # called through the EXIT trap
cleanup_on_error() {
  local rc=$?
  if (( rc != 0 )) && [[ -n "$started_dir" && -d "$started_dir" ]]; then
    if [[ "${KEEP_RUN_DIR:-}" == 1 ]]; then
      gk_log "failed; stopping the nodes started so far, keeping $started_dir (KEEP_RUN_DIR=1)"
      local d; for d in "$started_dir"/*/; do [[ -f "$d/redis.log" ]] && { echo "--- $d/redis.log" >&2; tail -n 15 "$d/redis.log" >&2; }; done
      local p; for p in "${ports[@]}"; do gk_stop_server "$p" "$started_dir/$p" >/dev/null 2>&1 || true; done
    else
      gk_log "failed; stopping the nodes started so far and removing $started_dir (KEEP_RUN_DIR=1 keeps it)"
      wipe_run_dir "$started_dir" 2>/dev/null || true
    fi
  fi
}
trap cleanup_on_error EXIT

# try_cluster <p1> <p2> <p3>: prints the result and exits 0 when the cluster is
# up; returns (so the caller tries other ports) when an automatically chosen
# port turned out to be taken; dies otherwise.
try_cluster() {
  ports=("$@")
  local dir=${REDIS_CLUSTER_RUN_DIR:-/tmp/gatekeeper-redis-cluster-$1}
  local p

  if [[ -d "$dir" ]]; then
    dir=$(cd "$dir" && pwd -P)
    if [[ -f "$dir/$MARKER" ]]; then
      local old_ports
      old_ports=$(sed -n 's/^PORTS=//p' "$dir/$MARKER")
      local alive=1
      for p in "${ports[@]}"; do [[ -n "$(gk_pidfile_pid "$dir/$p/redis.pid")" ]] || alive=0; done
      if [[ "$old_ports" == "$(IFS=,; echo "${ports[*]}")" ]] && (( alive )) && cluster_ok "${ports[@]}"; then
        gk_log "cluster already running on ports ${ports[*]}; reusing it"
        print_result "$dir" "${ports[@]}"
        trap - EXIT
        exit 0
      fi
      if [[ "$old_ports" != "$(IFS=,; echo "${ports[*]}")" ]]; then
        local q live=""
        IFS=, read -r -a q <<<"$old_ports"
        for p in "${q[@]}"; do [[ -n "$(gk_pidfile_pid "$dir/$p/redis.pid")" ]] && live+=" $p"; done
        if [[ -n "$live" ]]; then
          [[ -z "$base" && -z "${REDIS_CLUSTER_RUN_DIR:-}" ]] && return 0
          gk_die "$dir belongs to another cluster (ports $old_ports) whose nodes$live still run; stop it first ($here/stop-redis-cluster.sh $dir) or set REDIS_CLUSTER_RUN_DIR"
        fi
      fi
      gk_log "removing the previous cluster in $dir (ports ${old_ports:-?})"
      wipe_run_dir "$dir"
    elif [[ -n "$(ls -A "$dir" 2>/dev/null)" ]]; then
      gk_die "$dir exists, is not empty and was not made by this script; choose another REDIS_CLUSTER_RUN_DIR"
    fi
  fi

  for p in "${ports[@]}"; do
    if gk_port_open "$p" || gk_port_open $((p + 10000)); then
      [[ -n "$base" ]] && gk_die "port $p or its bus port $((p + 10000)) is already in use"
      return 0
    fi
  done

  local t0
  t0=$(gk_now_ms)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  started_dir=$dir
  echo "PORTS=$(IFS=,; echo "${ports[*]}")" >"$dir/$MARKER"

  umask 077 # redis.conf may hold the password
  local -A offset=()
  for p in "${ports[@]}"; do
    local nd=$dir/$p
    mkdir -p "$nd"
    {
      echo "# generated by gatekeeper scripts/redis/start-redis-cluster.sh"
      echo "port $p"
      echo "bind $GK_HOST"
      echo "daemonize yes"
      echo "pidfile $(gk_conf_quote "$nd/redis.pid")"
      echo "logfile $(gk_conf_quote "$nd/redis.log")"
      echo "dir $(gk_conf_quote "$nd")"
      echo 'save ""'
      echo "appendonly no"
      echo "cluster-enabled yes"
      echo "cluster-config-file nodes.conf"
      echo "cluster-node-timeout ${REDIS_CLUSTER_NODE_TIMEOUT:-2000}"
      if [[ -n "${REDIS_PASSWORD:-}" ]]; then
        echo "requirepass $(gk_conf_quote "$REDIS_PASSWORD")"
        echo "masterauth $(gk_conf_quote "$REDIS_PASSWORD")"
      fi
    } >"$nd/redis.conf"
    touch "$nd/redis.log"
    offset[$p]=$(wc -c <"$nd/redis.log" | tr -d ' ')
    redis-server "$nd/redis.conf" >&2 || gk_die "redis-server failed to start on port $p; see $nd/redis.log"
  done

  local rc
  for p in "${ports[@]}"; do
    rc=0
    gk_wait_ping "$p" "$timeout" "$dir/$p/redis.pid" "$dir/$p/redis.log" "${offset[$p]}" || rc=$?
    if (( rc == 2 )) && [[ -z "$base" ]]; then
      gk_log "port $p was taken meanwhile; trying other ports"
      wipe_run_dir "$dir"
      started_dir=""
      return 0
    elif (( rc != 0 )); then
      tail -n 10 "$dir/$p/redis.log" >&2 || true
      gk_die "node on port $p did not answer PING within ${timeout}s"
    fi
  done

  local -a addrs=()
  for p in "${ports[@]}"; do addrs+=("$GK_HOST:$p"); done
  local t_up t_created
  t_up=$(gk_now_ms)
  gk_log "nodes up after $(( t_up - t0 )) ms; creating the cluster: ${addrs[*]}"
  local out
  if ! out=$(
    if [[ -n "${REDIS_PASSWORD:-}" ]]; then export REDISCLI_AUTH="$REDIS_PASSWORD"; else unset REDISCLI_AUTH; fi
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes 2>&1
  ); then
    printf '%s\n' "$out" >&2
    gk_die "redis-cli --cluster create failed"
  fi
  printf '%s\n' "$out" | sed $'s/\x1b\\[[0-9;]*m//g' >"$dir/cluster-create.log"
  grep -q '\[OK\] All 16384 slots covered' <<<"$out" || { printf '%s\n' "$out" >&2; gk_die "redis-cli --cluster create did not cover all slots"; }

  t_created=$(gk_now_ms)
  local deadline=$(( $(date +%s) + timeout ))
  until cluster_ok "${ports[@]}"; do
    if (( $(date +%s) >= deadline )); then
      for p in "${ports[@]}"; do echo "--- $p" >&2; gk_cli "$p" cluster info >&2 2>&1 || true; done
      gk_die "cluster_state did not become ok on every node within ${timeout}s"
    fi
    sleep 0.1
  done
  local t_ok
  t_ok=$(gk_now_ms)
  gk_log "cluster_state:ok on all $N nodes after $(( t_ok - t0 )) ms (nodes $(( t_up - t0 )) ms, --cluster create $(( t_created - t_up )) ms, convergence $(( t_ok - t_created )) ms); run dir $dir"
  print_result "$dir" "${ports[@]}"
  trap - EXIT
  exit 0
}

if [[ -n "$base" ]]; then
  try_cluster $(seq "$base" $((base + N - 1)))
  exit 1 # not reached
fi
for _ in 1 2 3 4 5; do
  mapfile -t picked < <(gk_free_ports "$N" bus | sort -n)
  (( ${#picked[@]} == N )) || gk_die "could not find $N free ports"
  try_cluster "${picked[@]}"
done
gk_die "could not start the cluster on free ports after 5 attempts"
