#pragma once
// Weights sent down as int8 deltas (docs/training.md, "8-bit weights down"). A job that sends its
// weights down as int8 publishes the lineage P of the weights its workers compute on:
//     P(0)     = the initial weights, whole
//     P(v + 1) = P(v) + dequant(Q(W(v + 1) - P(v)))
// where W is the optimizer's true weights and Q the block int8 code (tensor/BlockInt8.h) with
// stochastic rounding keyed by the job's model spec and v + 1 (protocol::weightsDeltaRoundingKey).
// What rounding leaves out of one delta stays in W - P and goes into the next (error feedback), so
// P follows W without drifting away from it. A worker that holds P(v) receives the delta (about a
// quarter of the bytes) and rebuilds P(v + 1) with applyWeightsDelta, the very function the
// coordinator made P(v + 1) with, so both hold the same bytes (and SHA-256).
//
//   PublishedStep next = publishWeights(published, trueWeightsAtV1, key);   // coordinator
//   std::vector<std::byte> rebuilt = applyWeightsDelta(published, next.delta, v + 1);   // worker
//   // rebuilt == next.published, byte for byte
//
// Weights are weights-only checkpoints (nn::toCheckpoint without optimizer: safetensors with the
// spec and the step); the delta covers every tensor, all F32, in the file's (name) order, as one
// block int8 payload of blockInt8Bytes(values) bytes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "checkpoint/Checkpoint.h"

namespace raven {

struct PublishedStep {
    std::vector<std::byte> delta;      // Q(W(v + 1) - P(v)): what travels to a worker holding P(v)
    std::vector<std::byte> published;  // P(v + 1) as a safetensors file, step v + 1
};

// P(v + 1) from P(v)'s file and W(v + 1) (`weights.step` = v + 1). raven::Error when the two are not
// of the same model (names, shapes), when a tensor is not F32, or when W - P has no int8 form.
PublishedStep publishWeights(std::span<const std::byte> published, const Checkpoint& weights, std::uint64_t key);

// P(version) from P(version - 1)'s file and the delta between them. raven::Error naming the problem
// when `published` is not a weights file of step version - 1 or the delta is not a valid one for it.
std::vector<std::byte> applyWeightsDelta(std::span<const std::byte> published, std::span<const std::byte> delta,
                                         std::int64_t version);

// The bytes of a delta for weights of `values` values.
std::size_t weightsDeltaBytes(std::size_t values);

}  // namespace raven
