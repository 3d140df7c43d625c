#!/usr/bin/env bash
# ensure-redis.sh — make sure redis-server and redis-cli (Redis >= 5, for
# `redis-cli --cluster`) are installed.
#
# Usage: scripts/redis/ensure-redis.sh
#
# When they are missing and we are root on a Debian/Ubuntu machine, runs
#   apt-get update -qq && apt-get install -y -qq redis-server
# with a temporary /usr/sbin/policy-rc.d that denies service starts, so that
# Debian's own redis-server service is NOT started (and nothing already running,
# e.g. a server on 127.0.0.1:6379, is touched). Otherwise prints what to install
# and exits 1. Prints nothing on stdout; exit 0 means both commands are usable.
set -euo pipefail
GK_NAME=ensure-redis
# shellcheck source=lib.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

have_redis() { command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; }

check_version() {
  local v major
  v=$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([0-9][0-9.]*\).*/\1/p')
  major=${v%%.*}
  if [[ -n "$major" ]] && (( major < 5 )); then
    gk_die "redis-server $v is too old: Redis >= 5 is needed (redis-cli --cluster)"
  fi
}

if have_redis; then
  check_version
  exit 0
fi

install_hint="install Redis >= 5 so that redis-server and redis-cli are on PATH:
  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y redis-server
  Fedora/RHEL:   sudo dnf install -y redis
  macOS:         brew install redis
(or run this script as root on Debian/Ubuntu and it installs redis-server itself)"

if [[ "$(id -u)" != 0 ]]; then
  gk_die "redis-server/redis-cli not found and not running as root; $install_hint"
fi
if ! command -v apt-get >/dev/null 2>&1; then
  gk_die "redis-server/redis-cli not found and apt-get is not available; $install_hint"
fi

gk_log "redis-server/redis-cli not found; installing the Debian package redis-server (service start disabled)"
gk_apt_install redis-server

hash -r
have_redis || gk_die "apt-get installed redis-server but redis-server/redis-cli are still not on PATH ($PATH)"
check_version
gk_log "installed: $(redis-server --version)"
