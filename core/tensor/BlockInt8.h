#pragma once
// Block int8: updates (gradients, local-steps pseudo-gradients) on the wire in about a quarter of
// fp32's bytes, the same way on every machine, so that a verifier that recomputes a unit's fp32
// update reproduces the bytes its worker sent.
//
// The values are cut into blocks of kBlockInt8Values (the last block may be shorter). Each block is
//     scale   float32, little-endian: the block's largest |value| / 127 (0 for a block of zeros)
//     q[k]    k int8 values in [-127, 127]; value ~ q * scale
// so n values take blockInt8Bytes(n) = n + 4 * ceil(n / 256) bytes.
//
// Rounding is stochastic and unbiased: x / scale = f + r with f = floor(x / scale) and r in [0, 1)
// becomes f + 1 with probability r, else f, so the mean of many updates is the mean of their fp32
// values (round to nearest would drop every value under half a step, for good). The draws come from
// Philox-4x32-10 (tensor/Philox.h) keyed by `key` with element i's counter (i / 4, 0, 0, 0), word
// i % 4: a pure function of (key, i), so the bytes depend on the key and the values only, never on
// threads, devices or the order of the work. Callers key each unit's update on its own
// (protocol::updateRoundingKey); the same values under another key round differently.
//
//   std::vector<std::byte> wire = encodeBlockInt8(gradient, key);   // raven::Error on NaN or inf
//   std::vector<float> back = decodeBlockInt8(wire, gradient.size());  // raven::Error on a bad payload
//
// decode checks everything a hostile sender controls: the size, every scale in [0, FLT_MAX / 128] (so
// 127 steps stay finite; NaN, infinity and -0 refused), no -128 (not a value this encoder writes), so
// every decoded value is finite. The arithmetic is plain IEEE float32 (one division and
// one multiplication per value, no fused operations), so it gives the same bits everywhere.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace raven {

inline constexpr std::size_t kBlockInt8Values = 256;

// Encoded size of `values` values.
std::size_t blockInt8Bytes(std::size_t values);

// raven::Error naming the first value that is not finite (it has no int8 form), or a block whose absmax
// is within 1% of float32's largest value (its scale would exceed FLT_MAX / 128).
std::vector<std::byte> encodeBlockInt8(std::span<const float> values, std::uint64_t key);

// The values `bytes` stand for; raven::Error when they are not blockInt8Bytes(values) bytes, when a
// scale is negative, NaN or infinite, or when a value is -128.
std::vector<float> decodeBlockInt8(std::span<const std::byte> bytes, std::size_t values);
// The same into `out` (out.size() values), every one of them overwritten: for a receiver that reuses
// the memory of an earlier gradient. On an error `out` holds a part of the values.
void decodeBlockInt8Into(std::span<const std::byte> bytes, std::span<float> out);

}  // namespace raven
