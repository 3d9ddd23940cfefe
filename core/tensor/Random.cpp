#include "tensor/Random.h"

#include <cmath>
#include <numbers>

#include "base/Error.h"

namespace raven {

namespace {
uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

void Generator::reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& s : state_) s = splitmix64(x);
    hasSpare_ = false;
}

uint64_t Generator::nextU64() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
}

float Generator::nextFloat() { return static_cast<float>(nextU64() >> 40) * 0x1p-24f; }

double Generator::nextDouble() { return static_cast<double>(nextU64() >> 11) * 0x1p-53; }

double Generator::nextNormal() {
    if (hasSpare_) {
        hasSpare_ = false;
        return spare_;
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const double u1 = 1.0 - nextDouble();
    const double u2 = nextDouble();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * std::numbers::pi * u2;
    spare_ = radius * std::sin(angle);
    hasSpare_ = true;
    return radius * std::cos(angle);
}

uint64_t Generator::nextBelow(uint64_t bound) {
    RAVEN_ASSERT(bound > 0, "Generator::nextBelow needs a positive bound");
    // Rejection sampling: draws in the incomplete top block are discarded.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do {
        x = nextU64();
    } while (x >= limit);
    return x % bound;
}

}  // namespace raven
