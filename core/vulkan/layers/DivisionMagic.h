#pragma once
// The constants with which compute-shaders/include/raven_divide.glsl divides any 32-bit n by a divisor
// d >= 1 fixed at recording time, with a multiplication and shifts (Granlund and Montgomery, "Division
// by invariant integers using multiplication", the round-up method with an add, as libdivide's
// branch-free form): with l = ceil(log2 d), m = floor(2^32 (2^l - d) / d) + 1, s1 = min(l, 1) and
// s2 = max(l - 1, 0), n / d = (t + ((n - t) >> s1)) >> s2 where t = (n * m) >> 32.
//
//   const DivisionMagic magic = divisionMagic(outW);  // into the push constants as three uints
//   assert(magic.divide(n) == n / outW);              // what the shader computes, on the host
#include <cstdint>

namespace raven::vulkan::layers {

struct DivisionMagic {
    std::uint32_t multiplier = 1, shift1 = 0, shift2 = 0;

    std::uint32_t divide(std::uint32_t n) const {
        const auto high = static_cast<std::uint32_t>((static_cast<std::uint64_t>(n) * multiplier) >> 32);
        return (high + ((n - high) >> shift1)) >> shift2;
    }
};

inline DivisionMagic divisionMagic(std::uint32_t d) {
    std::uint32_t l = 0;
    while (l < 32 && (std::uint64_t{1} << l) < d) ++l;
    const std::uint64_t m = ((std::uint64_t{1} << 32) * ((std::uint64_t{1} << l) - d)) / d + 1;
    return {static_cast<std::uint32_t>(m), l < 1 ? l : 1, l > 0 ? l - 1 : 0};
}

}  // namespace raven::vulkan::layers
