#pragma once
// UnitMemory: about how much memory computing a work unit takes, for the contributor's memory cap on
// the CPU device (WorkerOptions::maxUnitBytes).
//
//   const std::int64_t bytes = unitMemoryBytes(unit, manifest);   // -1 when the spec does not parse
//   if (bytes > cap) handBack(...);                                 // "needs about 3.2 GB"
//
// The estimate, in fp32: the parameters four times (the weights, their gradients, the flattened
// gradient and the encoded result), and each sample's input and every layer's output twice (kept for
// the backward pass, and their gradients), times the unit's samples (from the manifest's shard
// sizes). The same per-layer sizes the coordinator's JobBounds uses; it leaves out the allocator's
// slack, so it is a lower bound on what the process grows by.
#include <cstdint>

#include "data/Manifest.h"
#include "protocol/raven.pb.h"

namespace raven::worker {

std::int64_t unitMemoryBytes(const wire::WorkUnit& unit, const data::Manifest& manifest);

}  // namespace raven::worker
