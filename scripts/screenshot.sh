#!/usr/bin/env bash
# screenshot.sh OUT.png PROGRAM [ARGS...]: starts PROGRAM on a private Xvfb display, waits for its
# window to settle, and saves the whole screen with ImageMagick's `import` (what a person would see).
set -euo pipefail
out=$1; shift
xvfb-run -a -s "-screen 0 1000x560x24" bash -c '
  "$@" & pid=$!
  sleep "${RAVEN_SCREENSHOT_WAIT:-4}"
  import -window root "'"$out"'"
  kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' _ "$@"
echo "saved $out"
