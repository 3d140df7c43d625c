#!/usr/bin/env bash
# stop-redis.sh — stop a redis-server started by start-redis.sh.
#
# Usage: scripts/redis/stop-redis.sh <port>
#        REDIS_PORT=<port> scripts/redis/stop-redis.sh
#
# Sends SHUTDOWN NOSAVE (with REDIS_PASSWORD, if set); if that is refused or
# does not work, signals the pid from <run dir>/redis.pid (TERM, then KILL),
# and waits until the process has exited and the port is free. Then removes the
# files start-redis.sh created in the run dir (redis.conf, redis.log, redis.pid)
# and the run dir itself when it is empty; KEEP_RUN_DIR=1 keeps them.
# Stopping a server that is not running is not an error (exit 0).
# Refuses port 6379 (the machine's own Redis) unless FORCE=1.
#
# Environment: REDIS_PORT, REDIS_RUN_DIR (default /tmp/gatekeeper-redis-<port>),
#   REDIS_PASSWORD, REDIS_STOP_TIMEOUT (seconds, default 10), FORCE, KEEP_RUN_DIR.
set -euo pipefail
GK_NAME=stop-redis
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=lib.sh
source "$here/lib.sh"

(( $# <= 1 )) || gk_die "usage: $0 <port>"
port=${1:-${REDIS_PORT:-}}
[[ -n "$port" ]] || gk_die "usage: $0 <port>   (or set REDIS_PORT)"
port=${port##*:} # accept 127.0.0.1:<port> and redis://127.0.0.1:<port> too
gk_is_port "$port" || gk_die "not a port: $port"
port=$((10#$port))
if (( port == GK_PROTECTED_PORT )) && [[ "${FORCE:-}" != 1 ]]; then
  gk_die "refusing to stop port $GK_PROTECTED_PORT (the machine's own Redis); set FORCE=1 if you really mean it"
fi
command -v redis-cli >/dev/null 2>&1 || gk_die "redis-cli not found; run $here/ensure-redis.sh"

dir=${REDIS_RUN_DIR:-/tmp/gatekeeper-redis-$port}
gk_stop_server "$port" "$dir"

if [[ "${KEEP_RUN_DIR:-}" != 1 && -d "$dir" ]]; then
  rm -f "$dir/redis.conf" "$dir/redis.log" "$dir/redis.pid"
  rmdir "$dir" 2>/dev/null || true
fi
