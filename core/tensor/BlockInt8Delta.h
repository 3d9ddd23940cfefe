#pragma once
// The arithmetic of weights sent down as int8 deltas (docs/training.md, "8-bit weights down"): the
// coordinator and every worker run exactly this code, so that a worker's reconstruction of the
// published weights has the coordinator's bits.
//
//   std::vector<float> d = weightsDifference(trueWeights, published);        // what the delta encodes
//   std::vector<float> next = addBlockInt8Delta(published, encodeBlockInt8(d, key));
//
// Each value is rounded once per operation (one subtraction; one multiplication and one addition),
// never fused: the product is decodeBlockInt8's (its own translation unit, stored before the sum) and
// this file is built with -ffp-contract=off, as the verifiable CPU code is, so no compiler turns
// q * scale + base into a fused multiply-add on one machine and not on another.
#include <cstddef>
#include <span>
#include <vector>

namespace raven {

// target[i] - base[i]; raven::Error when the sizes differ.
std::vector<float> weightsDifference(std::span<const float> target, std::span<const float> base);

// base[i] + q[i] * scale (the block int8 `delta`, tensor/BlockInt8.h, decoded as decodeBlockInt8 does).
// raven::Error for a delta decodeBlockInt8 refuses (size, scales, -128), or one whose sum is not
// finite: a delta that would make the weights overflow is broken or hostile.
std::vector<float> addBlockInt8Delta(std::span<const float> base, std::span<const std::byte> delta);

}  // namespace raven
