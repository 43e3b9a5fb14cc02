#!/usr/bin/env bash
# The ring-view browser test drives Debian's Chromium through playwright-core (which never downloads a
# browser). Installs it with apt-get when it is missing and we may (root or passwordless sudo);
# otherwise says how, and the browser test skips with that reason.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "chromium is not installed and apt-get needs root: run 'sudo apt-get install -y chromium' for the browser test (it skips until then)" >&2
    exit 0
  fi
fi
echo "installing Debian's chromium for the browser test (apt-get)..." >&2
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
