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
//
// The round trip and the link are measured (issue 17 item 1): a new job is sized for the contributors
// connected when it is created. Their median round trip (ProtocolServer::ping, end to end through any
// relay) rounded up to a power of two, never below the nominal figure; their median upload rate
// (ProtocolServer::uploadMbitPerS, from their large messages) rounded down to a power of two, never
// above the nominal figure, and taken for both directions (downloads are rarely slower):
//
//   const UnitSizing sizing = nominal.forRoundTrips({42, 55, 61})     // sized for 64 ms
//                                    .forUploadRates({9.5, 12, 14});  // and 8 Mbit/s
//
// Only ever slower than nominal: on a LAN (and on every test bed) the cut is the nominal one, and a
// measurement only makes units larger, for fleets behind slower links. Rounded: fleets of one
// character (the same kind of link) give a job one cut whoever of them is connected, so a job
// submitted twice gets the same bits; only a fleet twice as far or half as fast changes it. The cut
// is still stored with the job.
#include <cstdint>
#include <string>
#include <vector>

#include "nn/Architecture.h"
#include "training/StepPlan.h"

namespace raven::coordinator {

struct UnitSizing {
    // Nominal figures of the fleet a coordinator serves (CoordinatorOptions::unitSizing; raven-coordinator
    // --unit-round-trip-ms, --unit-link-mbit, --unit-worker-gflops). The defaults describe one CPU core
    // on a gigabit LAN; an operator whose workers sit behind home links lowers the bandwidth (units
    // grow, fewer per step). The round trip is a floor: the measured one counts where larger.
    double workerGflops = 50.0;     // training FLOP rate of a typical worker
    double linkMbitPerS = 1000.0;   // between a worker and the coordinator, each way
    double roundTripMs = 1.0;       // one request and its answer
    double transferMultiple = 4.0;  // a unit computes this many times its transfer time

    bool fromFleet = true;          // false: the nominal figures alone, whatever was measured
    int roundTripMeasuredOver = 0;  // contributors whose round trip the figure above came from
    int linkMeasuredOver = 0;       // contributors whose upload rate the link figure came from

    // Shards per unit for a job; at least 1, at most the step's shards.
    std::int64_t shardsPerUnit(const nn::Architecture& model, const training::StepPlan& plan,
                               double gradientBytesPerValue) const;
    // These figures sized for measured round trips (milliseconds, one per contributor): their median
    // rounded up to a power of two, never below roundTripMs. None measured, or fromFleet off:
    // these figures as they are.
    UnitSizing forRoundTrips(std::vector<double> measuredMs) const;
    // These figures sized for measured upload rates (Mbit/s, one per contributor): their median rounded
    // down to a power of two, never above linkMbitPerS. None measured, or fromFleet off: as they are.
    UnitSizing forUploadRates(std::vector<double> measuredMbitPerS) const;
    // "64 ms round trip (measured over 3 contributors), 8 Mbit/s (measured over 2 contributors),
    // 50 GFLOP/s per worker", for logs.
    std::string describe() const;
};

// Bytes per gradient value on the wire for a job's encoding (4 for fp32, 2 for fp16/bf16, 1 + 4/256
// for int8 blocks).
double gradientBytesPerValue(int wireGradientEncoding);

}  // namespace raven::coordinator
