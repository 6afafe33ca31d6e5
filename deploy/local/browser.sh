#!/usr/bin/env bash
# Installs the headless browser the admin page's tests drive: Debian's `chromium` package, with
# apt, once. Nothing else ever fetches a browser (no Playwright browser downloads).
#
#   browser.sh           install chromium unless /usr/bin/chromium is already there
#   browser.sh path      print the browser's path (fails when it is not installed)
#
# apt needs root: run it as root (as the project's machines do) or with sudo.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL=${LOCAL_DIR:-$ROOT/.local}
BROWSER=/usr/bin/chromium
LOG=$LOCAL/logs/browser-install.log

log() { printf '[browser] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

installed() { [[ -x $BROWSER ]]; }

install() {
  if installed; then
    log "chromium is installed: $BROWSER"
    return
  fi
  [[ $(id -u) -eq 0 ]] ||
    die "$BROWSER is missing and installing Debian's chromium package needs root; run: sudo $0"
  command -v apt-get >/dev/null ||
    die "$BROWSER is missing and apt-get is not available to install Debian's chromium package"
  mkdir -p "$(dirname "$LOG")"
  : >"$LOG"
  log "installing Debian's chromium package with apt-get (output in $LOG)"
  log "apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$LOG" 2>&1 ||
    die "apt-get update failed; see $LOG"
  log "apt-get install -y --no-install-recommends chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
    >>"$LOG" 2>&1 || die "installing chromium with apt-get failed; see $LOG"
  installed || die "apt-get installed chromium but $BROWSER is still missing; see $LOG"
  log "installed: $("$BROWSER" --version 2>/dev/null || echo "$BROWSER")"
}

case ${1:-install} in
  install) install ;;
  path)
    installed || die "$BROWSER is not installed; run $0"
    echo "$BROWSER"
    ;;
  *) die "unknown command '$1' (install, path)" ;;
esac
