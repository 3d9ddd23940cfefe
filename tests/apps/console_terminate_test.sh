#!/usr/bin/env bash
# console_terminate_test.sh RAVEN_CONSOLE: SIGTERM (logout, systemd, kill) closes raven-console as its
# window does: it exits 0, and its local workers and embedded coordinator stop with it.
set -euo pipefail
console=$1
work=$(mktemp -d)
trap 'kill -KILL $(pgrep -P "${pid:-0}" 2>/dev/null) "${pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config XDG_CACHE_HOME=$work/cache QT_QPA_PLATFORM=offscreen
"$console" --data-dir "$work/console" --workers 1 >"$work/console.log" 2>&1 &
pid=$!
worker=""
for _ in $(seq 300); do
    worker=$(pgrep -P "$pid" -x raven-worker | head -1) || true
    [ -n "$worker" ] && break
    sleep 0.1
done
[ -n "$worker" ] || fail "raven-console started no local worker: $(tail -5 "$work/console.log")"
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
[ "$code" = 0 ] || fail "raven-console ended with status $code on SIGTERM, not 0: $(tail -5 "$work/console.log")"
for _ in $(seq 100); do kill -0 "$worker" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$worker" 2>/dev/null; then fail "its raven-worker $worker outlived it"; fi
echo PASS
