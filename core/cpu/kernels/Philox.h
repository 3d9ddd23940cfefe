#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
// random number generator. Each 128-bit counter under a 64-bit key gives four independent 32-bit words,
// with no state carried from one number to the next, so the random number of element i depends on
// (seed, i) alone, never on which thread or which shader invocation draws it. It needs only 32-bit
// multiplies, which every Vulkan device has; the compute shaders implement the same function.
// Checked against Random123's known-answer vectors (tests/cpu_kernels).
#include <array>
#include <cstdint>

namespace raven::cpu::kernels {

using PhiloxBlock = std::array<uint32_t, 4>;

constexpr PhiloxBlock philox4x32_10(PhiloxBlock counter, std::array<uint32_t, 2> key) {
    constexpr uint64_t multiplier0 = 0xD2511F53u, multiplier1 = 0xCD9E8D57u;
    constexpr uint32_t weyl0 = 0x9E3779B9u, weyl1 = 0xBB67AE85u;
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            key[0] += weyl0;
            key[1] += weyl1;
        }
        const uint64_t product0 = multiplier0 * counter[0], product1 = multiplier1 * counter[2];
        counter = {static_cast<uint32_t>(product1 >> 32) ^ counter[1] ^ key[0], static_cast<uint32_t>(product1),
                   static_cast<uint32_t>(product0 >> 32) ^ counter[3] ^ key[1], static_cast<uint32_t>(product0)};
    }
    return counter;
}

// The random 32-bit word of element `element` of the stream `seed`: word (element % 4) of the block whose
// counter is (element / 4) as two 32-bit halves, low first, then two zero words; the key is the seed,
// low half first.
constexpr PhiloxBlock philoxBlockOf(uint64_t seed, uint64_t element) {
    const uint64_t block = element >> 2;
    return philox4x32_10({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0u, 0u},
                         {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)});
}

// A uniform float in [0, 1) on a grid of 2^-24 (exact in float32) from a random word.
constexpr float uniformFromWord(uint32_t word) { return static_cast<float>(word >> 8) * 0x1.0p-24f; }

}  // namespace raven::cpu::kernels
