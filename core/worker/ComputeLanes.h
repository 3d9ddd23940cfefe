#pragma once
// ComputeLanes: how many units of its lease a worker computes side by side ("lanes"), and with how
// many CPU threads each. Each lane is a UnitComputer of its own (its own backend and models) on a
// compute thread of its own; units are taken in lease order by whichever lane is free.
//
//   LanePlan plan = ComputeLanes::plan(requested, "cpu", threads, cores, maxLeases);
//   for (int i = 0; i < plan.lanes; ++i) lanes.push_back(UnitComputer("cpu", plan.threadsPerLane));
//
// - requested 1: one lane with every thread (units one after another).
// - requested N >= 2: N lanes, at most the units the worker may hold (a lane without a unit is no
//   use) and, on the CPU, at most one per thread: the threads are shared out, the first lanes taking
//   the remainder. On Vulkan each lane submits its own command buffers, so two units' work is in
//   flight on the device at once.
// - requested 0 (automatic): one lane. Measured with bench/distributed (raven-bench-unit-lanes) on
//   the 2-core CI machine, two MLP units side by side with one thread each computed at 0.93-1.01x the
//   rate of one after another with two threads (docs/benchmarks.md): no gain to pay a second model's
//   memory for. Vulkan lanes are not measured yet. Where a machine shows a gain, pass the lanes.
#include <QString>

namespace raven::worker {

struct LanePlan {
    int lanes = 1;
    int threadsPerLane = 0;  // 0: every core (one lane with the default thread count)
    int extraThreads = 0;    // the first extraThreads lanes take one thread more (threads that do not divide)

    int threadsOfLane(int lane) const { return threadsPerLane + (lane < extraThreads ? 1 : 0); }
};

class ComputeLanes {
public:
    // `threads`: the worker's CPU threads (0: all `cores`); `maxLeases`: the units it may hold.
    static LanePlan plan(int requested, const QString& device, int threads, int cores, int maxLeases);
};

}  // namespace raven::worker
