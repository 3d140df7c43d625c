#!/usr/bin/env bash
# start-kafka.sh — install (once) and start a real single-node Apache Kafka
# broker in KRaft mode (broker+controller in one JVM), loopback only.
#
# Jars come from Maven Central through ./pom.xml (Kafka version = the pom's
# <kafka.version>) and are cached; nothing is installed system-wide.
# Needs: bash, java (17+, JDK: javac builds the readiness probe once), mvn.
#
# Usage:
#   eval "$(scripts/kafka/start-kafka.sh)"        # sets KAFKA_RUN_DIR, KAFKA_PORT, KAFKA_BROKERS
#   KAFKA_RUN_DIR=/tmp/k1 scripts/kafka/start-kafka.sh
#
# Stdout (nothing else goes to stdout; progress/logs go to stderr):
#   KAFKA_RUN_DIR=<run dir>
#   KAFKA_PORT=<port>
#   KAFKA_BROKERS=127.0.0.1:<port>                 <- always the LAST line
# (When an already-reachable KAFKA_BROKERS is reused, only the last line.)
#
# Environment (all optional):
#   KAFKA_PORT             PLAINTEXT port on 127.0.0.1. Unset: the port in an
#                          existing KAFKA_RUN_DIR/server.properties; else, with
#                          a new KAFKA_RUN_DIR, a random free port in 20000-31999;
#                          else (neither set) 19092 if free, else a random one.
#   KAFKA_CONTROLLER_PORT  CONTROLLER listener port (never give it to clients).
#                          Unset: reuse the run dir's, else a random free port.
#   KAFKA_RUN_DIR          Run dir: server.properties, log4j.properties,
#                          data/ (log.dirs), kafka.log, kafka.pid, env.
#                          Default /tmp/gatekeeper-kafka-<port>. Concurrent
#                          runs (two test runs on one machine) must each pass a
#                          run dir of their own (scripts/test.sh and the tests'
#                          startOwnBroker use mktemp): with the default, a second
#                          run finds the first one's broker and reuses it.
#   GATEKEEPER_CACHE       Cache root, default $HOME/.cache/gatekeeper; jars go
#                          to $GATEKEEPER_CACHE/kafka-<version>/libs.
#   KAFKA_HEAP_OPTS        Default "-Xms128m -Xmx512m".
#   KAFKA_JVM_OPTS         Extra JVM flags (default "-XX:+UseG1GC -XX:MaxGCPauseMillis=20").
#   KAFKA_START_TIMEOUT    Seconds to wait for readiness, default 90.
#   KAFKA_CLUSTER_ID       Cluster id used when formatting (default: random).
#   KAFKA_WARMUP           1 (default): readiness also waits for the group and
#                          transaction coordinators (creates __consumer_offsets
#                          and __transaction_state), so a client's first group
#                          join / InitProducerId does not hit "coordinator not
#                          available/loading". 0: metadata check only (~1s faster).
#   KAFKA_EXTRA_PROPS      Extra server.properties lines (newline separated),
#                          appended last (so they override the defaults).
#   KAFKA_BROKERS          If set, reachable, and neither KAFKA_RUN_DIR nor
#                          KAFKA_PORT is set, nothing is started: the script
#                          prints KAFKA_BROKERS=<it> and exits 0.
#                          KAFKA_FORCE_START=1 disables that reuse.
#
# Concurrent starts: choosing the ports and launching until the broker listens
# runs under a machine-wide lock ($TMPDIR/gatekeeper-kafka-ports.lock), so two
# scripts never pick the same free port and both try to bind it.
#
# Idempotence / restart:
#   * Jars are fetched only when the cache dir is missing or incomplete.
#   * A run dir whose storage is formatted (data/meta.properties) is never
#     reformatted: data, topics and committed offsets survive a restart.
#   * If the broker of that run dir is already running, it is only checked for
#     readiness and its address printed again (no second broker).
#   * Restart on the same dir and port (e.g. after "stop-kafka.sh --keep DIR"):
#       KAFKA_RUN_DIR=DIR scripts/kafka/start-kafka.sh     # port read from DIR
#     or equivalently KAFKA_RUN_DIR=DIR KAFKA_PORT=<same port> ...
#
# Readiness = the port accepts connections AND the broker answers
# DescribeCluster + Metadata through Kafka's AdminClient (KafkaReady.java),
# plus the coordinator warm-up (see KAFKA_WARMUP).
# On timeout the log tail is printed, the broker is killed, and the exit code is 1.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
POM="$SCRIPT_DIR/pom.xml"
PROBE_SRC="$SCRIPT_DIR/KafkaReady.java"

log() { printf '[start-kafka] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }

T0="$(now_ms)"

JAVA="java"
JAVAC="javac"
if [[ -n "${JAVA_HOME:-}" ]]; then
  JAVA="$JAVA_HOME/bin/java"
  JAVAC="$JAVA_HOME/bin/javac"
fi
command -v "$JAVA" >/dev/null 2>&1 || die "java not found (need Java 17+)"

KAFKA_VERSION="$(sed -n 's:.*<kafka.version>[[:space:]]*\([^<[:space:]]*\)[[:space:]]*</kafka.version>.*:\1:p' "$POM" | head -n 1)"
[[ -n "$KAFKA_VERSION" ]] || die "cannot read <kafka.version> from $POM"

CACHE_ROOT="${GATEKEEPER_CACHE:-${HOME:-/tmp}/.cache/gatekeeper}"
KAFKA_CACHE="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_CACHE/libs"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
WARMUP_ARGS=()
[[ "${KAFKA_WARMUP:-1}" == 0 ]] || WARMUP_ARGS=(--warmup)
DEFAULT_PORT=19092

# ---------------------------------------------------------------- helpers ---

# 0 if something accepts TCP connections on 127.0.0.1:$1 (or host $2).
port_open() {
  local port="$1" host="${2:-127.0.0.1}"
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# A random free loopback port below the ephemeral range (32768+), or fail.
random_free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM % 12000)))
    [[ -n "${1:-}" && "$p" == "$1" ]] && continue
    if ! port_open "$p"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

file_sha() { sha256sum "$1" | cut -c1-16; }

# pid of the Kafka broker recorded in $1/kafka.pid if it is alive, else empty.
live_pid() {
  local pf="$1/kafka.pid" pid
  [[ -f "$pf" ]] || return 0
  pid="$(tr -dc '0-9' <"$pf")"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  local cmd
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  if [[ "$cmd" == *" kafka.Kafka "* ]]; then echo "$pid"; fi
}

# Read key=value from a properties file.
prop() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

# ------------------------------------------------------- jars and probe ------

ensure_libs() {
  local marker="$LIBS/.gatekeeper-complete" want tmp
  want="$(file_sha "$POM")"
  if [[ -f "$marker" && "$(cat "$marker")" == "$want" && -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    return 0
  fi
  mkdir -p "$KAFKA_CACHE"
  # Serialise concurrent first runs (the lock is released when fd 9 closes).
  local locked=0
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$KAFKA_CACHE/.lock"
    flock 9
    locked=1
    if [[ -f "$marker" && "$(cat "$marker")" == "$want" && -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
      exec 9>&-
      return 0
    fi
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to fetch the Kafka jars)"
  log "fetching Kafka $KAFKA_VERSION jars into $LIBS (one-time) ..."
  local t; t="$(now_ms)"
  tmp="$KAFKA_CACHE/libs.tmp.$$"
  rm -rf "$tmp"
  # mvn's output goes to stderr (our stdout is reserved for the KAFKA_* lines);
  # sed strips the colour resets Maven 3.8 prints even with -q/-B.
  if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$tmp" -DincludeScope=runtime 2>&1 | sed -e $'s/\x1b\\[[0-9;]*m//g' >&2; then
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"; }
  echo "$want" >"$tmp/.gatekeeper-complete"
  rm -rf "$LIBS"
  mv -T "$tmp" "$LIBS"
  log "jars fetched in $(( ($(now_ms) - t) / 1000 ))s ($(find "$LIBS" -name '*.jar' | wc -l) jars)"
  if [[ "$locked" == 1 ]]; then exec 9>&-; fi
}

PROBE_DIR=""
ensure_probe() {
  PROBE_DIR="$KAFKA_CACHE/probe-$(file_sha "$PROBE_SRC")"
  if [[ -f "$PROBE_DIR/KafkaReady.class" ]]; then return 0; fi
  local tmp="$PROBE_DIR.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  command -v "$JAVAC" >/dev/null 2>&1 || die "javac not found (a JDK 17+ is needed)"
  "$JAVAC" -nowarn -cp "$LIBS/*" -d "$tmp" "$PROBE_SRC" 1>&2 || { rm -rf "$tmp"; die "javac KafkaReady.java failed"; }
  cat >"$tmp/log4j-probe.properties" <<'EOF'
log4j.rootLogger=ERROR, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[probe] %p %c: %m%n
EOF
  rm -rf "$PROBE_DIR"
  mv -T "$tmp" "$PROBE_DIR" 2>/dev/null || rm -rf "$tmp"  # lost a race: the other copy is fine
}

# probe BOOTSTRAP TIMEOUT_S [PID]
probe() {
  "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j.configuration="file:$PROBE_DIR/log4j-probe.properties" \
    -cp "$LIBS/*:$PROBE_DIR" KafkaReady "$@"
}

emit() {
  # $1 = run dir, $2 = port
  printf 'KAFKA_RUN_DIR=%q\n' "$1"
  printf 'KAFKA_PORT=%s\n' "$2"
  printf 'KAFKA_BROKERS=127.0.0.1:%s\n' "$2"
}

# ------------------------------------------- reuse an external KAFKA_BROKERS --

if [[ -n "${KAFKA_BROKERS:-}" && -z "${KAFKA_RUN_DIR:-}" && -z "${KAFKA_PORT:-}" && "${KAFKA_FORCE_START:-0}" != 1 ]]; then
  first="${KAFKA_BROKERS%%,*}"
  host="${first%:*}"
  bport="${first##*:}"
  if [[ "$bport" =~ ^[0-9]+$ ]] && port_open "$bport" "$host"; then
    ok=1
    # Full metadata check only when the jars are already cached (no download just to check).
    if [[ -f "$LIBS/.gatekeeper-complete" ]]; then
      ensure_probe
      probe "$KAFKA_BROKERS" 15 || ok=0
    fi
    if [[ "$ok" == 1 ]]; then
      log "KAFKA_BROKERS=$KAFKA_BROKERS is reachable; not starting a broker"
      printf 'KAFKA_BROKERS=%s\n' "$KAFKA_BROKERS"
      exit 0
    fi
  fi
  log "KAFKA_BROKERS=$KAFKA_BROKERS is not reachable; starting a local broker"
fi

# ------------------------------------------------------ run dir and ports ----

# A free port is only free until a broker binds it: from choosing the ports to the broker
# listening, hold a machine-wide lock (released at exit or once the port is open). fd 8 is closed
# for the broker itself, so a running broker never holds it.
if command -v flock >/dev/null 2>&1; then
  exec 8>"${TMPDIR:-/tmp}/gatekeeper-kafka-ports.lock"
  flock 8
fi

PORT="${KAFKA_PORT:-}"
CPORT="${KAFKA_CONTROLLER_PORT:-}"
if [[ -n "${KAFKA_RUN_DIR:-}" ]]; then
  RUN_DIR="$KAFKA_RUN_DIR"
  if [[ -z "$PORT" && -f "$RUN_DIR/server.properties" ]]; then
    PORT="$(prop "$RUN_DIR/server.properties" advertised.listeners | sed -n 's/.*PLAINTEXT:\/\/[^:,]*:\([0-9]*\).*/\1/p')"
  fi
  # A new run dir of its own gets a random port, not the well-known default another run may
  # be about to restart on.
  if [[ -z "$PORT" ]]; then PORT="$(random_free_port)" || die "no free port found"; fi
elif [[ -n "$PORT" ]]; then
  RUN_DIR="/tmp/gatekeeper-kafka-$PORT"
else
  d="/tmp/gatekeeper-kafka-$DEFAULT_PORT"
  if [[ -n "$(live_pid "$d")" ]] || ! port_open "$DEFAULT_PORT"; then
    PORT="$DEFAULT_PORT"
  else
    PORT="$(random_free_port)" || die "no free port found"
  fi
  RUN_DIR="/tmp/gatekeeper-kafka-$PORT"
fi
[[ "$PORT" =~ ^[0-9]+$ ]] || die "bad KAFKA_PORT '$PORT'"
if [[ -d "$RUN_DIR" ]]; then RUN_DIR="$(cd -- "$RUN_DIR" && pwd -P)"; fi
PROPS="$RUN_DIR/server.properties"
PID_FILE="$RUN_DIR/kafka.pid"
LOG_FILE="$RUN_DIR/kafka.log"
DATA_DIR="$RUN_DIR/data"

ensure_libs
ensure_probe

# Already running from this run dir? Then only confirm readiness (idempotent).
pid="$(live_pid "$RUN_DIR")"
if [[ -n "$pid" ]]; then
  running_port="$(prop "$PROPS" advertised.listeners | sed -n 's/.*PLAINTEXT:\/\/[^:,]*:\([0-9]*\).*/\1/p')"
  [[ "$running_port" == "$PORT" ]] || die "broker pid $pid already runs from $RUN_DIR on port $running_port (asked for $PORT); stop it first"
  log "broker already running (pid $pid) from $RUN_DIR"
  probe "127.0.0.1:$PORT" "$START_TIMEOUT" "$pid" "${WARMUP_ARGS[@]}" || die "running broker pid $pid is not answering; see $LOG_FILE"
  emit "$RUN_DIR" "$PORT"
  exit 0
fi
if [[ -f "$PID_FILE" ]]; then rm -f "$PID_FILE"; fi

if port_open "$PORT"; then
  die "port 127.0.0.1:$PORT is already in use by another process"
fi
if [[ -z "$CPORT" && -f "$PROPS" ]]; then
  CPORT="$(prop "$PROPS" listeners | sed -n 's/.*CONTROLLER:\/\/[^:,]*:\([0-9]*\).*/\1/p')"
  if [[ -n "$CPORT" ]] && { port_open "$CPORT" || [[ "$CPORT" == "$PORT" ]]; }; then
    log "previous controller port $CPORT is busy; picking another"
    CPORT=""
  fi
fi
if [[ -z "$CPORT" ]]; then
  CPORT="$(random_free_port "$PORT")" || die "no free controller port found"
fi
[[ "$CPORT" =~ ^[0-9]+$ && "$CPORT" != "$PORT" ]] || die "bad KAFKA_CONTROLLER_PORT '$CPORT'"
port_open "$CPORT" && die "controller port 127.0.0.1:$CPORT is already in use"

# Create the run dir only now that the ports are known to be usable.
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd -- "$RUN_DIR" && pwd -P)"
PROPS="$RUN_DIR/server.properties"
PID_FILE="$RUN_DIR/kafka.pid"
LOG_FILE="$RUN_DIR/kafka.log"
DATA_DIR="$RUN_DIR/data"

# ------------------------------------------------------------- config --------

touch "$RUN_DIR/.gatekeeper-kafka"   # marker: stop-kafka.sh only deletes dirs that have it
cat >"$PROPS" <<EOF
# Generated by scripts/kafka/start-kafka.sh (rewritten on every start).
# Single-node KRaft broker+controller for tests and local runs. Loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$DATA_DIR

num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true

num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
EOF
if [[ -n "${KAFKA_EXTRA_PROPS:-}" ]]; then
  printf '\n# KAFKA_EXTRA_PROPS\n%s\n' "$KAFKA_EXTRA_PROPS" >>"$PROPS"
fi

cat >"$RUN_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF

# shellcheck disable=SC2206  # word splitting of the option strings is intended
HEAP=(${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m})
# shellcheck disable=SC2206
JVM_OPTS=(${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20})
JAVA_CMD=("$JAVA" "${HEAP[@]}" "${JVM_OPTS[@]}" -Djava.awt.headless=true
  "-Dlog4j.configuration=file:$RUN_DIR/log4j.properties"
  "-Dkafka.logs.dir=$RUN_DIR/logs"
  -cp "$LIBS/*")

# ------------------------------------------------------------- format --------

if [[ -f "$DATA_DIR/meta.properties" ]]; then
  log "storage in $DATA_DIR already formatted (cluster $(prop "$DATA_DIR/meta.properties" cluster.id)); not reformatting"
else
  # A Kafka cluster id is 16 bytes in URL-safe base64. One starting with '-' would be read by
  # StorageTool as an option, so the first character is drawn again until it is not.
  cluster_id="${KAFKA_CLUSTER_ID:-}"
  while [[ -z "$cluster_id" || "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  log "formatting $DATA_DIR (cluster id $cluster_id)"
  # Static quorum (controller.quorum.voters): no --standalone in 3.9.
  "${JAVA_CMD[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" --ignore-formatted \
    >>"$LOG_FILE" 2>&1 || { tail -n 40 "$LOG_FILE" >&2; die "kafka-storage format failed"; }
fi

# -------------------------------------------------------------- start --------

printf '\n===== start %s port=%s controller=%s =====\n' "$(date -u +%FT%TZ)" "$PORT" "$CPORT" >>"$LOG_FILE"
TS="$(now_ms)"
# Detach: new session, stdio away from the caller (so $(start-kafka.sh) returns).
# The wrapper writes its own pid, then execs java: the pid file holds java's pid.
launcher=()
command -v setsid >/dev/null 2>&1 && launcher=(setsid)
# shellcheck disable=SC2016  # $$/$1/$@ expand in the inner bash
"${launcher[@]}" bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PID_FILE" \
  "${JAVA_CMD[@]}" kafka.Kafka "$PROPS" >>"$LOG_FILE" 2>&1 </dev/null 8>&- 9>&- &
disown 2>/dev/null || true

for _ in $(seq 1 50); do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
pid="$(tr -dc '0-9' <"$PID_FILE" 2>/dev/null || true)"
[[ -n "$pid" ]] || die "broker did not start (no pid file); see $LOG_FILE"
log "broker pid $pid, port $PORT, controller port $CPORT, run dir $RUN_DIR"

fail() {
  log "ERROR: $*"
  log "---- last 60 lines of $LOG_FILE ----"
  tail -n 60 "$LOG_FILE" >&2 || true
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$PID_FILE"
  exit 1
}

deadline=$(( $(date +%s) + START_TIMEOUT ))
until port_open "$PORT"; do
  kill -0 "$pid" 2>/dev/null || fail "broker exited during start-up"
  (( $(date +%s) < deadline )) || fail "port $PORT not open after ${START_TIMEOUT}s"
  sleep 0.2
done
# The broker holds its ports now: another start may choose.
exec 8>&-
remaining=$(( deadline - $(date +%s) ))
(( remaining > 0 )) || remaining=1
probe "127.0.0.1:$PORT" "$remaining" "$pid" "${WARMUP_ARGS[@]}" || fail "broker not answering metadata requests within ${START_TIMEOUT}s"

cat >"$RUN_DIR/env" <<EOF
KAFKA_RUN_DIR=$RUN_DIR
KAFKA_PORT=$PORT
KAFKA_CONTROLLER_PORT=$CPORT
KAFKA_BROKERS=127.0.0.1:$PORT
EOF
log "ready in $(( $(now_ms) - TS ))ms after launch ($(( $(now_ms) - T0 ))ms total)"
emit "$RUN_DIR" "$PORT"
