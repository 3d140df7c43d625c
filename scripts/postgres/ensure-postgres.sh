#!/usr/bin/env bash
# ensure-postgres.sh — make sure the PostgreSQL server binaries (initdb, pg_ctl, postgres) and psql
# are installed, so start-postgres.sh can run a throw-away cluster.
#
# Usage: scripts/postgres/ensure-postgres.sh
#
# Looks in PG_BIN, then /usr/lib/postgresql/<major>/bin (where Debian keeps them), then PATH. When
# they are missing and we are root on a Debian/Ubuntu machine, runs
#   apt-get update -qq && apt-get install -y -qq postgresql
# with a temporary /usr/sbin/policy-rc.d that denies service starts, so the package's own cluster
# ("main", port 5432) is NOT started and a server already running there is not touched. Otherwise
# prints what to install and exits 1. stdout: PG_BIN=<dir> (nothing else).
set -euo pipefail
GK_NAME=ensure-postgres
# shellcheck source=lib.sh
source "$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)/lib.sh"

have_postgres() { [[ -n "$(gk_pg_bindir)" ]] && command -v psql >/dev/null 2>&1; }

if have_postgres; then
  gk_out PG_BIN "$(gk_pg_bindir)"
  exit 0
fi
[[ -n "${PG_BIN:-}" ]] && gk_die "PG_BIN=$PG_BIN holds no initdb; unset it or point it at a PostgreSQL bin directory"

install_hint="install the PostgreSQL server (initdb, pg_ctl, postgres) and psql:
  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y postgresql
  Fedora/RHEL:   sudo dnf install -y postgresql-server
  macOS:         brew install postgresql
(or run this script as root on Debian/Ubuntu and it installs postgresql itself; PG_BIN=<dir> names a bin directory)"
if [[ "$(id -u)" != 0 ]]; then
  gk_die "PostgreSQL server binaries not found and not running as root; $install_hint"
fi
if ! command -v apt-get >/dev/null 2>&1; then
  gk_die "PostgreSQL server binaries not found and apt-get is not available; $install_hint"
fi

gk_log "PostgreSQL server binaries not found; installing the Debian package postgresql (service start disabled)"
gk_apt_install postgresql
hash -r
have_postgres || gk_die "apt-get installed postgresql but no initdb was found under /usr/lib/postgresql/*/bin or on PATH"
gk_log "installed: $("$(gk_pg_bindir)/postgres" --version)"
gk_out PG_BIN "$(gk_pg_bindir)"
