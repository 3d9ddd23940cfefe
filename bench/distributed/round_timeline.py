#!/usr/bin/env python3
"""Where each round of a local-steps job went, from the workers' own unit timelines.

  RAVEN_UNIT_TIMELINE=1 bench/distributed/local_steps.sh ... --logs DIR
  bench/distributed/round_timeline.py --lanes 8 DIR/w-<tag>-replay-*.log

Every raven-worker started with RAVEN_UNIT_TIMELINE=1 prints one line per unit: ms since it started
at each stage (granted, ready, compute started, computed, encoded, sent, answered) and the wall clock
of its start, so the lines of all the workers can be put on one clock. Units are grouped into rounds
of --lanes in the order they were granted: every lane of a round is granted before the next round's
units exist, with or without staleness (a re-issued or speculative lease would shift the cut). Per
round it prints, in ms: when the first and last lane were granted (from the round's first grant),
the lanes' compute times (min, mean, max), the median time from sent to answered (the upload over
the link and the coordinator's acceptance), when the last answer came, and the wait from it to the
next round's first grant (the outer step and the grants). The last line says what share of the
workers' time the lanes' compute took overall and what the barrier cost: the mean lane's compute
against the slowest one's, per round.
"""
import argparse
import re
import statistics


def units_of(paths):
    units = []
    pattern = re.compile(r"unit timeline:(.*)\(origin (\d+) unix ms\)")
    for worker, path in enumerate(paths):
        for line in open(path, errors="replace"):
            m = pattern.search(line)
            if not m:
                continue
            origin = float(m.group(2))
            stamps = [origin + float(x) if x != "-" else None for x in m.group(1).split()]
            if len(stamps) == 7 and None not in stamps:
                units.append((worker, stamps))
    return sorted(units, key=lambda u: u[1][0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("logs", nargs="+")
    p.add_argument("--lanes", type=int, required=True, help="lanes per round (the job's M)")
    a = p.parse_args()
    units = units_of(a.logs)
    if not units:
        raise SystemExit("no unit timelines in the logs: start the workers with RAVEN_UNIT_TIMELINE=1")
    rounds = [units[i:i + a.lanes] for i in range(0, len(units), a.lanes)]
    print("| round | lanes | workers | last granted | compute min / mean / max | sent -> answered | last answered | to next grant |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    barrier, busy, wall = [], 0.0, 0.0
    for i, r in enumerate(rounds):
        start = r[0][1][0]
        compute = [s[3] - s[2] for _, s in r]
        answered = max(s[6] for _, s in r)
        nxt = rounds[i + 1][0][1][0] - answered if i + 1 < len(rounds) else None
        upload = statistics.median(s[6] - s[5] for _, s in r)
        print(f"| {i} | {len(r)} | {len({w for w, _ in r})} | {r[-1][1][0] - start:.0f} | "
              f"{min(compute):.0f} / {statistics.mean(compute):.0f} / {max(compute):.0f} | {upload:.0f} | "
              f"{answered - start:.0f} | {'-' if nxt is None else f'{nxt:.0f}'} |")
        if i + 1 < len(rounds):  # the last round has no next grant to measure the wall to
            barrier.append(statistics.mean(compute) / max(compute))
            workers = len({w for w, _ in r})
            busy += sum(compute)
            wall += workers * (rounds[i + 1][0][1][0] - start)
    if wall > 0:
        print(f"\nlanes computed {100 * busy / wall:.0f}% of the workers' time over the rounds with a next one; "
              f"the mean lane took {100 * statistics.mean(barrier):.0f}% of the slowest lane's time in its round")


if __name__ == "__main__":
    main()
