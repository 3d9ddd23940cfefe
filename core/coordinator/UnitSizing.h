#pragma once
// UnitSizing: how many shards make one work unit of a job, decided once when the job is created.
//
//   const std::int64_t k = UnitSizing{}.shardsPerUnit(arch, plan, gradientBytesPerValue);
//   config.shardsPerUnit = k;   // recorded in the job's durable config (JobConfig::toJson)
//
// Why fixed: a step's gradient is the sum of its units' gradients in unit order, and floating-point
// sums depend on how they are grouped. A cut that followed the connected fleet (as it once did)
// gave a job different result bits with 1 or 8 workers and made a result impossible to verify by
// recomputation. The cut is therefore a function of the job alone (model, dataset, batch, gradient
// encoding) and of the nominal figures below, and it is stored with the job: a resumed job, or a
// coordinator upgraded to other nominal figures, cuts its steps exactly as before.
//
// The size: a unit should compute for `transferMultiple` times as long as it takes to move, so that
// transfers are a small share of a worker's time. Moving a unit costs one round trip, its gradient
// upload (parameters x bytes per value of the job's encoding) and the step's weights download
// (parameters x 4: once per step, and a unit is at most a step); computing it costs samples x the
// model's training FLOPs per sample at a nominal worker's speed. The largest whole number of shards
// per unit that still fits is found, then the step is split evenly: units = ceil(shards / max),
// shardsPerUnit = ceil(shards / units), so that no unit is a runt.
#include <cstdint>

#include "nn/Architecture.h"
#include "training/StepPlan.h"

namespace raven::coordinator {

struct UnitSizing {
    // Nominal figures of the fleet a coordinator serves (CoordinatorOptions::unitSizing). The
    // defaults describe one CPU core on a gigabit LAN; an operator whose workers sit behind home
    // links raises the round trip and lowers the bandwidth (units grow, fewer per step).
    double workerGflops = 50.0;     // training FLOP rate of a typical worker
    double linkMbitPerS = 1000.0;   // between a worker and the coordinator, each way
    double roundTripMs = 1.0;       // one request and its answer
    double transferMultiple = 4.0;  // a unit computes this many times its transfer time

    // Shards per unit for a job; at least 1, at most the step's shards.
    std::int64_t shardsPerUnit(const nn::Architecture& model, const training::StepPlan& plan,
                               double gradientBytesPerValue) const;
};

// Bytes per gradient value on the wire for a job's encoding (4 for fp32, 2 for fp16/bf16, 1 + 4/256
// for int8 blocks).
double gradientBytesPerValue(int wireGradientEncoding);

}  // namespace raven::coordinator
