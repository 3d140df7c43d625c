#!/usr/bin/env bash
# The project's test run: installs and starts the real services the tests need (a throw-away
# Redis, a 3-master Redis Cluster, a single-node Kafka broker, a throw-away PostgreSQL cluster,
# headless Chromium), runs every vitest suite against them, and stops what it started. `npm test`
# calls this.
#
# Set REDIS_URL / REDIS_CLUSTER_NODES / KAFKA_BROKERS / PG_URL to reuse servers you already run
# (PG_URL: a superuser URL; the tests create and drop their own databases there). Without PG_URL
# the tests get a throw-away cluster of their own even where a server answers on 5432, so a fresh
# machine and this one run the same way.
# Extra arguments go to vitest (e.g. `npm test -- test/unit`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cleanup() {
  local code=$?
  [[ -n "${started_redis_port:-}" ]] && bash scripts/redis/stop-redis.sh "$started_redis_port" >/dev/null 2>&1 || true
  [[ -n "${started_cluster_dir:-}" ]] && bash scripts/redis/stop-redis-cluster.sh "$started_cluster_dir" >/dev/null 2>&1 || true
  [[ -n "${started_pg_dir:-}" ]] && bash scripts/postgres/stop-postgres.sh "$started_pg_dir" >/dev/null 2>&1 || true
  [[ -n "${started_kafka_dir:-}" ]] && KAFKA_RUN_DIR="$started_kafka_dir" bash scripts/kafka/stop-kafka.sh >/dev/null 2>&1 || true
  [[ -n "${kafka_parent:-}" ]] && rm -rf -- "$kafka_parent" || true
  exit "$code"
}
trap cleanup EXIT INT TERM

# The value of KEY in the KEY=value lines a start script printed. Only the URLs are exported:
# a test that starts its own server must not inherit REDIS_PORT or KAFKA_RUN_DIR and take over
# (and stop) the shared one.
value_of() { sed -n "s/^$1=//p" <<<"$2" | tail -n 1; }

# The CLI runs compiled JavaScript (bin/ → dist/): process tests need dist/ as the sources are now.
node scripts/ensure-build.mjs
bash scripts/redis/ensure-redis.sh
if [[ -z "${REDIS_URL:-}" ]]; then
  out="$(env -u REDIS_PORT -u REDIS_RUN_DIR bash scripts/redis/start-redis.sh)"
  started_redis_port="$(value_of REDIS_PORT "$out")"
  export REDIS_URL="$(value_of REDIS_URL "$out")"
fi
if [[ -z "${REDIS_CLUSTER_NODES:-}" ]]; then
  out="$(env -u REDIS_CLUSTER_BASE_PORT -u REDIS_CLUSTER_RUN_DIR bash scripts/redis/start-redis-cluster.sh)"
  started_cluster_dir="$(value_of REDIS_CLUSTER_RUN_DIR "$out")"
  export REDIS_CLUSTER_NODES="$(value_of REDIS_CLUSTER_NODES "$out")"
fi
if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  # A run dir of this run's own (and so a random free port): with the default run dir a second
  # test run on the machine would find this run's broker, reuse it, and stop it when it ends.
  kafka_parent="$(mktemp -d "${TMPDIR:-/tmp}/gatekeeper-test-kafka-XXXXXX")"
  out="$(env -u KAFKA_PORT -u KAFKA_CONTROLLER_PORT KAFKA_RUN_DIR="$kafka_parent/broker" bash scripts/kafka/start-kafka.sh)"
  started_kafka_dir="$(value_of KAFKA_RUN_DIR "$out")"
  export KAFKA_BROKERS="$(value_of KAFKA_BROKERS "$out")"
fi
if [[ -z "${PG_URL:-}" ]]; then
  out="$(env -u PG_PORT -u PG_RUN_DIR bash scripts/postgres/start-postgres.sh)"
  started_pg_dir="$(value_of PG_RUN_DIR "$out")"
  export PG_URL="$(value_of PG_URL "$out")"
else
  bash scripts/postgres/ensure-postgres.sh >/dev/null
fi
unset REDIS_PORT REDIS_RUN_DIR REDIS_CLUSTER_RUN_DIR REDIS_CLUSTER_BASE_PORT KAFKA_PORT KAFKA_RUN_DIR KAFKA_CONTROLLER_PORT PG_PORT PG_RUN_DIR
[[ -x scripts/ensure-chromium.sh ]] && bash scripts/ensure-chromium.sh
if [[ -f tools/machine-extractor/package-lock.json ]]; then
  npm ci --prefix tools/machine-extractor --no-audit --no-fund --loglevel=error
fi

echo "test services: REDIS_URL=$REDIS_URL REDIS_CLUSTER_NODES=$REDIS_CLUSTER_NODES KAFKA_BROKERS=$KAFKA_BROKERS PG_URL=$PG_URL" >&2
mkdir -p test-results
status=0
# A report file of this run's own (two runs in one checkout must not read each other's), kept
# as test-results/vitest.json at the end.
report="test-results/vitest-$$.json"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line that any CI reads: "N passed, N failed".
REPORT="$report" node -e '
  const r = JSON.parse(require("fs").readFileSync(process.env.REPORT, "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
mv -f "$report" test-results/vitest.json 2>/dev/null || true
exit "$status"
