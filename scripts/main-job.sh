#!/usr/bin/env bash
# The main job: sets up, builds, and runs Raven's newest real capability end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh ci
bin=build/ci
echo "== Raven $("$bin/app-requester/raven" --version)"
echo "== Main job: the compute devices Raven finds here, each checked against the CPU with a real shader"
"$bin/app-requester/raven" devices --check
