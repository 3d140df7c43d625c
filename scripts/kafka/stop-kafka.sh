#!/usr/bin/env bash
# stop-kafka.sh — stop a broker started by start-kafka.sh and (by default)
# delete its run dir.
#
# Usage:
#   scripts/kafka/stop-kafka.sh [--keep] [--kill] [RUN_DIR]
#
#   RUN_DIR   the run dir printed by start-kafka.sh as KAFKA_RUN_DIR. If omitted:
#             $KAFKA_RUN_DIR, else /tmp/gatekeeper-kafka-$KAFKA_PORT, else the
#             port of a 127.0.0.1 $KAFKA_BROKERS, else /tmp/gatekeeper-kafka-19092.
#   --keep    keep the run dir (data, committed offsets, config, log), e.g. to
#             restart later with: KAFKA_RUN_DIR=RUN_DIR scripts/kafka/start-kafka.sh
#             (same as KAFKA_KEEP_RUN_DIR=1)
#   --kill    SIGKILL at once (simulated crash) instead of a clean SIGTERM shutdown.
#
# Environment: KAFKA_STOP_TIMEOUT (seconds to wait after SIGTERM before
# SIGKILL, default 60), KAFKA_KEEP_RUN_DIR=1 (same as --keep).
#
# Idempotent: exits 0 when nothing is running. Only deletes a run dir that
# start-kafka.sh created (it has a .gatekeeper-kafka marker file).
# Prints nothing on stdout; progress goes to stderr.
set -euo pipefail

log() { printf '[stop-kafka] %s\n' "$*" >&2; }

keep="${KAFKA_KEEP_RUN_DIR:-0}"
hard=0
run_dir=""
while (($#)); do
  case "$1" in
    --keep) keep=1 ;;
    --kill) hard=1 ;;
    -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) log "unknown option $1"; exit 2 ;;
    *) run_dir="$1" ;;
  esac
  shift
done

if [[ -z "$run_dir" ]]; then
  if [[ -n "${KAFKA_RUN_DIR:-}" ]]; then
    run_dir="$KAFKA_RUN_DIR"
  elif [[ -n "${KAFKA_PORT:-}" ]]; then
    run_dir="/tmp/gatekeeper-kafka-$KAFKA_PORT"
  elif [[ "${KAFKA_BROKERS:-}" =~ ^(127\.0\.0\.1|localhost):([0-9]+)$ ]]; then
    run_dir="/tmp/gatekeeper-kafka-${BASH_REMATCH[2]}"
  else
    run_dir="/tmp/gatekeeper-kafka-19092"
  fi
fi

if [[ ! -d "$run_dir" ]]; then
  log "no run dir $run_dir; nothing to stop"
  exit 0
fi

pid_file="$run_dir/kafka.pid"
pid=""
if [[ -f "$pid_file" ]]; then
  pid="$(tr -dc '0-9' <"$pid_file")"
fi

is_our_broker() {
  [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
  local cmd
  cmd="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true)"
  [[ "$cmd" == *" kafka.Kafka "* ]]
}

if is_our_broker "$pid"; then
  t0="$(date +%s%3N)"
  if [[ "$hard" == 1 ]]; then
    log "killing broker pid $pid (SIGKILL)"
    kill -KILL "$pid" 2>/dev/null || true
  else
    log "stopping broker pid $pid (SIGTERM)"
    kill -TERM "$pid" 2>/dev/null || true
  fi
  deadline=$(($(date +%s) + ${KAFKA_STOP_TIMEOUT:-60}))
  while kill -0 "$pid" 2>/dev/null; do
    # A zombie (our own child, not yet reaped) counts as gone.
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && break
    if (($(date +%s) >= deadline)); then
      log "broker pid $pid still alive after ${KAFKA_STOP_TIMEOUT:-60}s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  log "broker pid $pid stopped in $(($(date +%s%3N) - t0))ms"
else
  log "no running broker for $run_dir"
fi
rm -f "$pid_file"

if [[ "$keep" == 1 ]]; then
  log "kept run dir $run_dir"
elif [[ -f "$run_dir/.gatekeeper-kafka" ]]; then
  rm -rf -- "$run_dir"
  log "removed run dir $run_dir"
else
  log "not removing $run_dir: no .gatekeeper-kafka marker (not created by start-kafka.sh)"
fi
