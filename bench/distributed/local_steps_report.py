#!/usr/bin/env python3
"""One Markdown row of bench/distributed/local_steps.sh, from the coordinator's own files and the
workers' summaries.

  local_steps_report.py --metrics jobs/<id>/metrics.jsonl --job-dir jobs/<id> --label "..." \
      --wall 41.9 --bytes "SENT RECEIVED SAMPLES" --state done [--target 0.83] [--hash-out FILE] \
      [--same-as FILE]

Columns: optimizer steps (rounds for local steps), wall seconds, samples/s, bytes up and down per
sample (the workers' own counts), utilization (the mean over steps of the workers' compute time over
their wall time, StepWaterfall.h; the first step, which includes start-up, is left out), the wall
seconds until the test accuracy first reached --target (from the evaluations in metrics.jsonl; "not
reached" when none did, "-" without a target), the final test accuracy and test loss, and whether the
final weights equal another run's bit for bit (--same-as: the hash file that run wrote with
--hash-out; the hash is matrix_report.py's, over the tensors of the last checkpoint).
--waterfall FILE appends the run's mean step waterfall (StepWaterfall.h: ms per optimizer step and
worker, the first step left out) to FILE as a row of its own table.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from matrix_report import weights_hash  # noqa: E402


def field(row, snake):
    """A metrics.jsonl field under its proto name or its JSON (lowerCamel) name."""
    if snake in row:
        return row[snake]
    parts = snake.split("_")
    return row.get(parts[0] + "".join(p.title() for p in parts[1:]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--metrics", required=True)
    p.add_argument("--job-dir", required=True)
    p.add_argument("--label", required=True)
    p.add_argument("--wall", type=float, required=True)
    p.add_argument("--started", type=float, required=True, help="unix seconds when the workers were started")
    p.add_argument("--bytes", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--target", type=float)
    p.add_argument("--hash-out")
    p.add_argument("--same-as")
    p.add_argument("--waterfall")
    a = p.parse_args()

    sent, received, samples = (float(x) for x in a.bytes.split())
    rows = [json.loads(line) for line in open(a.metrics) if line.strip()] if os.path.exists(a.metrics) else []
    evals = [(float(field(r, "timestamp_ms") or 0) / 1000.0, field(r, "eval_accuracy"), field(r, "eval_loss"))
             for r in rows if field(r, "eval_accuracy") is not None]
    if not evals or samples <= 0:
        print(f"| {a.label} | (no result: {a.state}) |")
        return
    util = [r["extra"]["utilization"] for r in rows[1:] if "utilization" in r.get("extra", {})]
    steps = max(int(field(r, "step") or 0) for r in rows)
    if a.target is None:
        reached = "-"
    else:
        hit = [t for t, acc, _ in evals if acc >= a.target]
        reached = f"{hit[0] - a.started:.1f}" if hit else "not reached"
    _, digest = weights_hash(a.job_dir)
    if a.hash_out and digest:
        open(a.hash_out, "w").write(digest)
    same = "-"
    if a.same_as:
        other = open(a.same_as).read().strip() if os.path.exists(a.same_as) else None
        same = "yes" if other and digest == other else "NO"
    _, acc, loss = evals[-1]
    if a.waterfall:
        steady = [r["extra"] for r in rows[1:] if "wall_ms" in r.get("extra", {})]
        keys = ["wall_ms", "compute_ms", "weights_out_ms", "upload_ms", "ingest_ms", "step_ms", "idle_ms",
                "coordinator_cpu_ms_per_unit"]
        means = [sum(e.get(k, 0.0) for e in steady) / max(1, len(steady)) for k in keys]
        with open(a.waterfall, "a") as out:
            out.write(f"| {a.label} | " + " | ".join(f"{m:,.0f}" for m in means) + " |\n")
    print(f"| {a.label} | {steps} | {a.wall:.1f} | {samples / a.wall:,.0f} | {sent * 1e6 / samples:,.0f} | "
          f"{received * 1e6 / samples:,.0f} | {100 * sum(util) / max(1, len(util)):.0f}% | {reached} | "
          f"{100 * acc:.2f}% | {loss:.4f} | {same} |")


if __name__ == "__main__":
    main()
