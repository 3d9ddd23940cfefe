#!/usr/bin/env bash
# help_version_test.sh BINARY NAME VERSION: --help exits 0 and describes the program; --version prints both.
set -euo pipefail
bin=$1 name=$2 version=$3
help=$("$bin" --help 2>&1) || { echo "FAIL: $name --help exited $?: $help"; exit 1; }
case "$help" in *Usage:*"$name"*|*Usage:*) ;; *) echo "FAIL: $name --help has no usage line: $help"; exit 1;; esac
[ "$(printf '%s\n' "$help" | wc -l)" -ge 3 ] || { echo "FAIL: $name --help is too short: $help"; exit 1; }
ver=$("$bin" --version 2>&1) || { echo "FAIL: $name --version exited $?"; exit 1; }
case "$ver" in *"$name"*"$version"*) ;; *) echo "FAIL: $name --version printed '$ver'"; exit 1;; esac
echo "ok: $name"
