# Sourced by the end-to-end tests that start a coordinator and workers, once they have read their
# arguments: checks that Fashion-MNIST is installed, makes the scratch folder $work, kills every
# process listed in $pids when the test exits, and defines `fail MESSAGE` (prints the message and the
# tail of every log under $work, then exits 1).
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "FAIL: $data missing: run scripts/setup-debian.sh (dataset-fashion-mnist)"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$work"/*.log "$work"/*/*.log; do
        [ -f "$f" ] || continue
        echo "== $f"
        tail -n 15 "$f"
    done
    exit 1
}
