#!/usr/bin/env bash
# The project's test run: installs and starts the real services the tests need (a throw-away
# Redis, a 3-master Redis Cluster, a single-node Kafka broker, headless Chromium), runs every
# vitest suite against them, and stops what it started. `npm test` calls this.
#
# Set REDIS_URL / REDIS_CLUSTER_NODES / KAFKA_BROKERS to reuse servers you already run.
# Extra arguments go to vitest (e.g. `npm test -- test/unit`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cleanup() {
  local code=$?
  [[ -n "${started_redis_port:-}" ]] && bash scripts/redis/stop-redis.sh "$started_redis_port" >/dev/null 2>&1 || true
  [[ -n "${started_cluster_dir:-}" ]] && bash scripts/redis/stop-redis-cluster.sh "$started_cluster_dir" >/dev/null 2>&1 || true
  [[ -n "${started_kafka_dir:-}" ]] && KAFKA_RUN_DIR="$started_kafka_dir" bash scripts/kafka/stop-kafka.sh >/dev/null 2>&1 || true
  exit "$code"
}
trap cleanup EXIT INT TERM

# Reads KEY=value lines a start script prints, exporting each.
export_from() { while IFS= read -r line; do [[ "$line" == *=* ]] && export "${line?}"; done; }

bash scripts/redis/ensure-redis.sh
if [[ -z "${REDIS_URL:-}" ]]; then
  export_from < <(bash scripts/redis/start-redis.sh)
  started_redis_port="$REDIS_PORT"
fi
if [[ -z "${REDIS_CLUSTER_NODES:-}" ]]; then
  export_from < <(bash scripts/redis/start-redis-cluster.sh)
  started_cluster_dir="$REDIS_CLUSTER_RUN_DIR"
fi
if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  unset KAFKA_PORT
  export_from < <(bash scripts/kafka/start-kafka.sh)
  started_kafka_dir="$KAFKA_RUN_DIR"
fi
[[ -x scripts/ensure-chromium.sh ]] && bash scripts/ensure-chromium.sh
if [[ -f tools/machine-extractor/package-lock.json ]]; then
  npm ci --prefix tools/machine-extractor --no-audit --no-fund --loglevel=error
fi

echo "test services: REDIS_URL=$REDIS_URL REDIS_CLUSTER_NODES=$REDIS_CLUSTER_NODES KAFKA_BROKERS=$KAFKA_BROKERS" >&2
npx vitest run "$@"
