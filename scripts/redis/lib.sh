#!/usr/bin/env bash
# Shared helpers for the scripts in scripts/redis/. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Every message goes to stderr: the scripts keep stdout for KEY=value lines.

# The machine's own Redis. Nothing here stops it unless FORCE=1.
# shellcheck disable=SC2034 # used by the scripts that source this file
GK_PROTECTED_PORT=6379
GK_HOST=127.0.0.1

# Ports we pick ourselves come from this range. It stays below Linux's
# ephemeral range (32768-60999) so that client sockets do not take them, and
# port+10000 (a cluster node's bus port) stays below it too.
GK_PORT_MIN=${GK_PORT_MIN:-15000}
GK_PORT_MAX=${GK_PORT_MAX:-22767}

gk_log() { printf '[%s] %s\n' "${GK_NAME:-redis}" "$*" >&2; }
gk_die() { printf '[%s] error: %s\n' "${GK_NAME:-redis}" "$*" >&2; exit 1; }

# Print KEY=value on stdout; the value is shell-quoted only when it needs to be,
# so `eval "$(start-redis.sh)"` works and plain values stay plain.
gk_out() {
  if [[ "$2" =~ ^[A-Za-z0-9_./:,@%+=-]*$ ]]; then printf '%s=%s\n' "$1" "$2"; else printf '%s=%q\n' "$1" "$2"; fi
}

# Milliseconds since the epoch (whole seconds * 1000 where date lacks %N).
gk_now_ms() {
  local t
  t=$(date +%s%N 2>/dev/null || true)
  if [[ "$t" =~ ^[0-9]{13,}$ ]]; then echo $((t / 1000000)); else echo $(( $(date +%s) * 1000 )); fi
}

gk_is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (( 10#$1 >= 1 && 10#$1 <= 65535 )); }

# Run redis-cli against 127.0.0.1:<port> with a time limit. The password, if
# any, comes from REDIS_PASSWORD and is passed through REDISCLI_AUTH so that it
# neither shows up in `ps` nor triggers redis-cli's warning.
gk_cli() {
  local port=$1; shift
  local -a t=()
  if command -v timeout >/dev/null 2>&1; then t=(timeout "${GK_CLI_TIMEOUT:-5}"); fi
  if [[ -n "${REDIS_PASSWORD:-}" ]]; then
    REDISCLI_AUTH="$REDIS_PASSWORD" "${t[@]}" redis-cli -h "$GK_HOST" -p "$port" "$@"
  else
    env -u REDISCLI_AUTH "${t[@]}" redis-cli -h "$GK_HOST" -p "$port" "$@"
  fi
}

# 0 when something accepts TCP connections on 127.0.0.1:<port>.
gk_port_open() {
  local port=$1
  if command -v timeout >/dev/null 2>&1; then
    # shellcheck disable=SC2016 # $0/$1 are expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$GK_HOST" "$port" 2>/dev/null
  else
    (exec 3<>"/dev/tcp/$GK_HOST/$port") 2>/dev/null
  fi
}

# 0 when a Redis server on <port> answers PING with PONG (with REDIS_PASSWORD).
gk_ping() { [[ "$(gk_cli "$1" ping 2>/dev/null)" == PONG ]]; }

# 0 when <pid> is a live process. A zombie counts as dead: a daemonized
# redis-server is re-parented to PID 1, and some init processes (e.g. in
# containers) reap only now and then, so `kill -0` alone can say "alive" for a
# second after the server has exited.
gk_pid_alive() {
  local pid=$1 st
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -d /proc/self ]]; then
    st=$(sed -n 's/^State:[[:space:]]*\([A-Za-z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)
  else
    st=$(ps -o stat= -p "$pid" 2>/dev/null | tr -d ' ' || true)
  fi
  [[ -n "$st" && "$st" != Z* ]]
}

# 0 when <pid> is a live redis-server process.
gk_pid_is_redis() {
  local pid=$1 cmd
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  gk_pid_alive "$pid" || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    [[ -z "$cmd" ]] && cmd=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  else
    cmd=$(ps -p "$pid" -o command= 2>/dev/null || true)
  fi
  [[ "$cmd" == *redis-server* ]]
}

# The pid in <pidfile> when it names a live redis-server; empty otherwise.
gk_pidfile_pid() {
  local f=$1 pid
  [[ -f "$f" ]] || return 0
  pid=$(tr -dc '0-9' <"$f" 2>/dev/null || true)
  if [[ -n "$pid" ]] && gk_pid_is_redis "$pid"; then printf '%s\n' "$pid"; fi
}

# gk_free_ports <count> [bus]
# Print <count> distinct loopback ports (one a line) that nothing listens on.
# With "bus", port+10000 must be free as well (Redis Cluster bus port).
# Uses node (always present for this project); falls back to pure bash.
gk_free_ports() {
  local count=$1 bus=${2:-}
  if command -v node >/dev/null 2>&1; then
    node - "$count" "$bus" "$GK_PORT_MIN" "$GK_PORT_MAX" <<'JS'
const net = require('node:net');
const [count, bus, min, max] = [Number(process.argv[2]), process.argv[3] === 'bus', Number(process.argv[4]), Number(process.argv[5])];
const canListen = (port) => new Promise((resolve) => {
  const s = net.createServer();
  s.once('error', () => resolve(false));
  s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
});
(async () => {
  const picked = new Set();
  for (let tries = 0; picked.size < count && tries < 2000; tries++) {
    const p = min + Math.floor(Math.random() * (max - min + 1));
    if (picked.has(p) || (bus && picked.has(p - 10000))) continue;
    if (!(await canListen(p))) continue;
    if (bus && !(await canListen(p + 10000))) continue;
    picked.add(p);
  }
  if (picked.size < count) { console.error('no free ports found'); process.exit(1); }
  console.log([...picked].join('\n'));
})();
JS
    return
  fi
  local -a picked=()
  local p tries=0 q dup
  while (( ${#picked[@]} < count )); do
    (( ++tries > 2000 )) && { gk_log "no free ports found"; return 1; }
    p=$(( GK_PORT_MIN + (RANDOM * 32768 + RANDOM) % (GK_PORT_MAX - GK_PORT_MIN + 1) ))
    dup=0
    for q in "${picked[@]}"; do [[ $q == "$p" ]] && dup=1; done
    (( dup )) && continue
    gk_port_open "$p" && continue
    [[ -n "$bus" ]] && gk_port_open $((p + 10000)) && continue
    picked+=("$p")
  done
  printf '%s\n' "${picked[@]}"
}

# Quote a value for a redis.conf line.
gk_conf_quote() {
  local v=$1
  v=${v//\\/\\\\}
  v=${v//\"/\\\"}
  printf '"%s"' "$v"
}

# gk_wait_ping <port> <timeout-seconds> [pidfile] [logfile] [log-offset]
# Wait until the server on <port> answers PONG. Fails early when the log shows
# that it could not listen, or when its process is gone.
gk_wait_ping() {
  local port=$1 timeout=$2 logfile=${4:-} offset=${5:-0}
  local deadline=$(( $(date +%s) + timeout ))
  while :; do
    gk_ping "$port" && return 0
    if [[ -n "$logfile" && -f "$logfile" ]] &&
       tail -c +"$((offset + 1))" "$logfile" 2>/dev/null |
         grep -qE 'Address already in use|Failed listening|Could not create server TCP listening socket'; then
      return 2
    fi
    (( $(date +%s) >= deadline )) && return 1
    sleep 0.05
  done
}

# gk_stop_server <port> <run-dir>
# Shut down the redis-server on <port> (SHUTDOWN NOSAVE; falling back to the
# pid in <run-dir>/redis.pid: TERM, then KILL) and wait until it has exited.
gk_stop_server() {
  local port=$1 dir=$2 pid="" timeout=${REDIS_STOP_TIMEOUT:-10} deadline
  pid=$(gk_pidfile_pid "$dir/redis.pid")
  if [[ -z "$pid" ]] && gk_port_open "$port"; then
    # No pidfile (or a stale one): ask the server itself.
    pid=$(gk_cli "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p' || true)
    [[ -n "$pid" ]] && ! gk_pid_is_redis "$pid" && pid=""
  fi
  if [[ -z "$pid" ]] && ! gk_port_open "$port"; then
    gk_log "no server on port $port (already stopped)"
    return 0
  fi
  local sent_term=0 reply=""
  if gk_port_open "$port"; then
    # A successful SHUTDOWN prints nothing; an error reply (NOAUTH, ...) exits 0
    # too, so look at the text.
    reply=$(gk_cli "$port" shutdown nosave 2>&1 | tr -d '\r' || true)
    if [[ -n "$reply" && -n "$pid" ]]; then
      gk_log "SHUTDOWN refused ($reply); sending SIGTERM to pid $pid"
      kill -TERM "$pid" 2>/dev/null || true
      sent_term=1
    fi
  fi
  deadline=$(( $(date +%s) + timeout ))
  while :; do
    local alive=0
    [[ -n "$pid" ]] && gk_pid_alive "$pid" && alive=1
    if (( ! alive )) && [[ -z "$pid" ]] && gk_port_open "$port"; then alive=1; fi
    (( alive )) || break
    if (( ! sent_term )) && [[ -n "$pid" ]] && (( $(date +%s) >= deadline - timeout / 2 )); then
      gk_log "SHUTDOWN did not stop pid $pid; sending SIGTERM"
      kill -TERM "$pid" 2>/dev/null || true
      sent_term=1
    fi
    if (( $(date +%s) >= deadline )); then
      if [[ -n "$pid" ]]; then
        gk_log "pid $pid still alive after ${timeout}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
        gk_pid_alive "$pid" && { gk_log "could not stop pid $pid"; return 1; }
        break
      fi
      gk_log "port $port still answers after ${timeout}s and no pid is known"
      return 1
    fi
    sleep 0.05
  done
  # The process is gone; make sure the port is released too.
  local n=0
  while gk_port_open "$port" && (( n++ < 100 )); do sleep 0.05; done
  gk_port_open "$port" && { gk_log "port $port is still in use by something else"; return 1; }
  rm -f "$dir/redis.pid"
  gk_log "stopped redis on port $port${pid:+ (pid $pid)}"
}

# gk_apt_install <package...>
# apt-get update, then apt-get install -y <package...> (root on Debian/Ubuntu; the caller checks),
# with a temporary /usr/sbin/policy-rc.d that denies service starts, so that the package's own
# service (Debian's redis-server on 6379, postgresql's cluster "main" on 5432) is NOT started and
# nothing already running is touched. Whatever policy-rc.d was there is kept and restored. Dies
# with apt's output when the install fails.
gk_apt_install() {
  local policy=/usr/sbin/policy-rc.d backup="" apt_log status=0
  if [[ -e "$policy" ]]; then
    backup=$(mktemp "${policy}.gatekeeper.XXXXXX")
    cp -p "$policy" "$backup"
  fi
  # Restored on any exit too (an interrupted install must not leave services disabled).
  # shellcheck disable=SC2064 # expand now: the locals are gone when the trap runs
  trap "if [[ -n '$backup' ]]; then mv -f '$backup' '$policy'; else rm -f '$policy'; fi" EXIT
  # invoke-rc.d honours policy-rc.d exit code 101.
  printf '#!/bin/sh\n# temporary, from gatekeeper scripts (gk_apt_install)\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  apt_log=$(mktemp "${TMPDIR:-/tmp}/gatekeeper-apt.XXXXXX")
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >"$apt_log" 2>&1 || status=$?
  if [[ -n "$backup" ]]; then mv -f "$backup" "$policy"; else rm -f "$policy"; fi
  trap - EXIT
  if (( status != 0 )); then
    cat "$apt_log" >&2
    rm -f "$apt_log"
    gk_die "apt-get install $* failed (output above)"
  fi
  grep -E 'policy-rc.d|Setting up' "$apt_log" >&2 || true
  rm -f "$apt_log"
}
