#!/usr/bin/env bash
# Checks (or with --fix, applies) .clang-format on every C++ file Raven owns.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(--dry-run -Werror)
[ "${1:-}" = "--fix" ] && mode=(-i)
git ls-files '*.cpp' '*.h' | grep -v '^build' | xargs -r clang-format "${mode[@]}"
echo "format: ok"
