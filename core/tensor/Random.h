#pragma once
// Raven's own random numbers, so that a seed gives the same weights, dropout masks and shuffles on
// every platform and standard library (std::normal_distribution and friends differ between them).
//
// Generator: xoshiro256** (Blackman & Vigna) seeded through splitmix64. Uniform floats use the top 24
// bits of a draw, so they are exact and identical everywhere. Normal values use Box-Muller in double
// precision; they depend on the C library's log/cos/sin only through double-precision rounding that
// is then rounded to float, which in practice agrees across glibc, musl and MSVC.
//
//   raven::Generator gen(42);
//   Tensor w = raven::randn({256, 784}, gen);          // N(0, 1)
//   Tensor u = raven::uniform({10}, -0.1f, 0.1f, gen);  // U[-0.1, 0.1)
#include <cstdint>

namespace raven {

class Generator {
public:
    explicit Generator(uint64_t seed = 0) { reseed(seed); }

    void reseed(uint64_t seed);
    // The next 64 random bits.
    uint64_t nextU64();
    // Uniform in [0, 1), a multiple of 2^-24.
    float nextFloat();
    // Uniform in [0, 1), a multiple of 2^-53.
    double nextDouble();
    // Standard normal N(0, 1).
    double nextNormal();
    // Uniform integer in [0, bound) without modulo bias; bound > 0.
    uint64_t nextBelow(uint64_t bound);

private:
    uint64_t state_[4] = {};
    bool hasSpare_ = false;
    double spare_ = 0.0;
};

}  // namespace raven
