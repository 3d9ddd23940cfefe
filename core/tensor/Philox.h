#pragma once
// Philox-4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
// the counter-based generator of Random123, cuRAND and JAX: four 32-bit words out of a 128-bit counter
// and a 64-bit key, with no state. Draw i of a stream is philox4x32(counter(i), key), so any element
// of a stream is computed on its own, in any order, on any thread or device, with the same bits.
//
//   const PhiloxWords r = philox4x32({i, 0, 0, 0}, {k0, k1});   // 128 random bits for counter i
//   const float u = philoxUniform(r[0]);                         // uniform in [0, 1), multiple of 2^-24
//
// Ten rounds of two 32x32->64 multiplications, the key bumped by the Weyl constants between rounds.
// It passes BigCrush; Random123's known answers are checked in tests/tensor/TestBlockInt8.cpp.
#include <array>
#include <cstdint>

namespace raven {

using PhiloxWords = std::array<std::uint32_t, 4>;
using PhiloxKey = std::array<std::uint32_t, 2>;

PhiloxWords philox4x32(PhiloxWords counter, PhiloxKey key);

// The top 24 bits of a word as a float in [0, 1): exact, so the same on every platform.
inline float philoxUniform(std::uint32_t word) { return static_cast<float>(word >> 8) * 0x1.0p-24f; }

}  // namespace raven
