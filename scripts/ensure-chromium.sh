#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (test/e2e/ui*.test.ts), unless it is already
# there. The tests drive it with playwright-core at /usr/bin/chromium; no browser is downloaded
# by Playwright (never run `npx playwright install`). Needs root (or sudo) and apt.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  /usr/bin/chromium --version
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
/usr/bin/chromium --version
