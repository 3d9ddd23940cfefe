#!/usr/bin/env bash
# cli_test.sh RAVEN_COORDINATOR: the admin commands and serve's start, lock and clean stop on SIGTERM.
set -euo pipefail
bin=$1
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

key=$("$bin" add-requester ana --deposit 2.5 --data-dir "$dir/d" 2>/dev/null)
[ ${#key} -eq 43 ] || fail "add-requester printed '$key', not a 43-character key"
token=$("$bin" add-contributor box --data-dir "$dir/d" 2>/dev/null)
[ ${#token} -eq 43 ] && [ "$token" != "$key" ] || fail "add-contributor printed '$token'"
[ "$("$bin" status --data-dir "$dir/d")" = "no jobs" ] || fail "status of an empty coordinator"
if out=$("$bin" add-requester --data-dir "$dir/d" 2>&1); then fail "add-requester without a name succeeded"; fi
case "$out" in *"needs exactly one NAME"*) ;; *) fail "add-requester without a name said '$out'";; esac
if out=$("$bin" frobnicate --data-dir "$dir/d" 2>&1); then fail "an unknown command succeeded"; fi
case "$out" in *"unknown command"*) ;; *) fail "an unknown command said '$out'";; esac
if out=$("$bin" status 2>&1); then fail "status without --data-dir succeeded"; fi

"$bin" serve --data-dir "$dir/d" --listen 127.0.0.1:0 >"$dir/serve.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^fingerprint sha256:' "$dir/serve.out" && break; sleep 0.1; done
grep -q '^raven-coordinator serving wss://127.0.0.1:[0-9]' "$dir/serve.out" || fail "serve printed: $(cat "$dir/serve.out")"
if out=$("$bin" serve --data-dir "$dir/d" --listen 127.0.0.1:0 2>&1); then fail "a second serve on one directory started"; fi
case "$out" in *"another coordinator"*) ;; *) fail "a second serve said '$out'";; esac
"$bin" status --data-dir "$dir/d" >/dev/null || fail "status beside a running coordinator"
kill -TERM "$pid"
wait "$pid" || fail "serve exited $? on SIGTERM"
pid=
grep -q 'stopped' "$dir/serve.out" || fail "serve did not stop cleanly: $(cat "$dir/serve.out")"
echo "PASS"
