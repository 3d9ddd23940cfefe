#!/usr/bin/env python3
"""The rows and the goals of bench/distributed/matrix.sh, from the coordinator's own files.

  matrix_report.py row --metrics jobs/<id>/metrics.jsonl --job-dir jobs/<id> --model mlp --batch 1024 \
      --workers 4 --mode emulated --steps 20 --baseline baseline-mlp-1024.json
  matrix_report.py goals --rows rows.md

row: one Markdown row. The K = 1 run (the first of each model and batch) writes the baseline file: its
compute-only rate (samples per second of pure computation) and its final weights' hash; later rows
read it for their efficiency and their "bits equal" (not a row with --another-cut: other units, other
summation order, other bits). The weights' hash covers the tensors of the last
checkpoint (v<version>.safetensors, the highest version): their names, dtypes, shapes and bytes, not
its metadata.

goals: the goals of issue 17 item 7 beside the figures of the rows, met or not.
"""
import argparse
import hashlib
import json
import os
import re
import struct
import sys


def weights_hash(job_dir):
    versions = [(int(m.group(1)), name) for name in os.listdir(job_dir)
                if (m := re.fullmatch(r"v(\d+)\.safetensors", name))]
    if not versions:
        return None, None
    version, name = max(versions)
    with open(os.path.join(job_dir, name), "rb") as f:
        blob = f.read()
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_len])
    data = blob[8 + header_len:]
    h = hashlib.sha256()
    for tensor in sorted(k for k in header if k != "__metadata__"):
        info = header[tensor]
        begin, end = info["data_offsets"]
        h.update(f"{tensor}:{info['dtype']}:{info['shape']}:".encode())
        h.update(data[begin:end])
    return version, h.hexdigest()


def mean_of(rows, value):
    return sum(value(r) for r in rows) / len(rows) if rows else 0.0


def row(args):
    rows = [json.loads(line) for line in open(args.metrics) if line.strip()]
    measured = [r for r in rows
                if 2 <= int(r.get("step", 0)) <= args.steps - 1 and "wall_ms" in r.get("extra", {})]
    label = f"| {args.model} | {args.batch} | {args.workers} | {args.mode} |"
    if not measured:
        print(f"{label} (no measured steps in {args.metrics}) |")
        return
    mean = lambda key: sum(r["extra"].get(key, 0.0) for r in measured) / len(measured)
    # samples/s between the end of step 1 and the end of the last measured step (coordinator clock).
    stamps = {int(r["step"]): int(r["timestamp_ms"]) / 1000.0 for r in rows if "timestamp_ms" in r}
    last = max(int(r["step"]) for r in measured)
    if 1 in stamps and last in stamps and stamps[last] > stamps[1]:
        sps = (last - 1) * args.batch / (stamps[last] - stamps[1])
    else:
        sps = sum(r.get("samples_per_second", 0.0) for r in measured) / len(measured)
    version, digest = weights_hash(args.job_dir)
    rate = mean("compute_samples_per_s")
    if args.another_cut:
        # Cut into other units than the reference, so summed in another order: other bits, rightly.
        base = json.load(open(args.baseline)) if os.path.exists(args.baseline) else {}
        rate = base.get("compute_samples_per_s", rate)
        equal = "(another cut)"
    elif args.workers == 1 and not os.path.exists(args.baseline):
        json.dump({"compute_samples_per_s": rate, "weights": digest, "version": version}, open(args.baseline, "w"))
        equal = "(reference)"
    else:
        base = json.load(open(args.baseline)) if os.path.exists(args.baseline) else {}
        rate = base.get("compute_samples_per_s", rate)
        equal = "yes" if digest and digest == base.get("weights") else "no"
    eff = sps / (args.workers * rate) if rate > 0 else 0.0
    # What the units' compute times alone allow: everyone waits for the step's slowest worker.
    # (Coordinators older than compute_balance leave it blank.)
    allows = f"{100 * mean('compute_balance'):.0f}%" if all("compute_balance" in r["extra"] for r in measured) else ""
    # What the CPU allows: a step cannot be shorter than the CPU time it takes on the cores that do
    # it. Pinned, the workers share cores 1..cores-1 and the coordinator has core 0; not pinned,
    # everyone shares every core.
    steps_run = max(int(r.get("step", 0)) for r in rows)
    worker_ms = args.workers_cpu_ms / max(1, steps_run - 1)  # steps 2 .. the last (matrix.sh)
    coordinator_ms = mean_of(measured, lambda r: r["extra"].get("coordinator_cpu_ms_per_unit", 0.0) *
                             r["extra"].get("units", 0))
    if args.pinned:
        shortest = max(worker_ms / min(args.workers, max(1, args.cores - 1)), coordinator_ms)
    else:
        shortest = (worker_ms + coordinator_ms) / args.cores
    cpu_allows = f"{100 * min(1.0, mean('compute_ms') / shortest):.0f}%" if shortest > 0 else ""
    print(f"{label} {sps:.0f} | {100 * mean('utilization'):.0f}% | {allows} | {cpu_allows} | {100 * eff:.0f}% | "
          f"{mean('weights_out_ms'):.1f} | {mean('compute_ms'):.1f} | {mean('upload_ms'):.1f} | "
          f"{mean('ingest_ms'):.1f} | {mean('step_ms'):.1f} | {mean('idle_ms'):.1f} | "
          f"{mean('slowest_wait_ms'):.1f} | {mean('wall_ms'):.1f} | {worker_ms:.1f} / {coordinator_ms:.1f} | {equal} |")


# Issue 17 item 7: (what, model, batch or None for any, workers, least utilization)
GOALS = [
    ("one worker's step is compute", "cnn", None, 1, 0.85),
    ("one worker's step is compute", "mlp", None, 1, 0.60),
    ("utilization with 8 workers", "cnn", 4096, 8, 0.90),
    ("utilization with 8 workers", "mlp", 4096, 8, 0.75),
]


def goals(args):
    cells = {}
    for line in open(args.rows):
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) < 6 or not parts[1].isdigit() or not parts[5].endswith("%"):
            continue
        # The job's own cut (one worker, units sized as a user's job is) is a row of its own.
        key = (parts[0], int(parts[1]), int(parts[2]), "own" if "own cut" in parts[3] else "fixed")
        if key in cells and "recording" in parts[3]:
            continue  # the plain run of the same fleet answers the goal (matrix.sh)
        cells[key] = (parts[3], float(parts[5].rstrip("%")) / 100, parts[6], parts[7] if len(parts) > 7 else "")
    print("Goals of issue 17 item 7, beside this run's figures:")
    print()
    print("| goal | model | batch | workers | mode | figure | goal | met | the compute times allow | the CPU allows |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for what, model, batch, workers, least in GOALS:
        found = [(b, cell) for (m, b, k, _), cell in sorted(cells.items()) if m == model and k == workers
                 and (batch is None or b == batch)]
        if not found:
            print(f"| {what} | {model} | {batch or 'any'} | {workers} | - | not run | >= {100 * least:.0f}% | - | | |")
        for b, (mode, figure, allows, cpu_allows) in found:
            print(f"| {what} | {model} | {b} | {workers} | {mode} | {100 * figure:.0f}% | >= {100 * least:.0f}% | "
                  f"{'yes' if figure >= least else 'no'} | {allows} | {cpu_allows} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("row")
    r.add_argument("--metrics", required=True)
    r.add_argument("--job-dir", required=True)
    r.add_argument("--model", required=True)
    r.add_argument("--batch", type=int, required=True)
    r.add_argument("--workers", type=int, required=True)
    r.add_argument("--mode", required=True)
    r.add_argument("--steps", type=int, required=True)
    r.add_argument("--baseline", required=True)
    r.add_argument("--another-cut", action="store_true",
                   help="the job was cut into other units than the baseline's: its bits are not compared")
    r.add_argument("--workers-cpu-ms", type=float, default=0.0,
                   help="the K workers' CPU time from step 1 applied to the job's end")
    r.add_argument("--cores", type=int, default=1)
    r.add_argument("--pinned", type=int, default=1, help="1: coordinator on core 0, workers on the others")
    g = sub.add_parser("goals")
    g.add_argument("--rows", required=True)
    args = parser.parse_args()
    row(args) if args.command == "row" else goals(args)


if __name__ == "__main__":
    sys.exit(main())
