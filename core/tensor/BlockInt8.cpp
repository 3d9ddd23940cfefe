#include "tensor/BlockInt8.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "base/Error.h"
#include "tensor/Philox.h"

namespace raven {

namespace {

constexpr std::size_t kScaleBytes = sizeof(float);
constexpr float kLevels = 127.0f;
// The largest scale: 127 steps of it stay finite (FLT_MAX / 128, exact), so a decoded value is never
// infinite. Blocks whose absmax would need more (values within 1% of FLT_MAX) are refused.
constexpr float kMaxScale = std::numeric_limits<float>::max() / 128.0f;

static_assert(std::endian::native == std::endian::little, "the wire's scales are little-endian floats");

std::size_t blocksOf(std::size_t values) { return (values + kBlockInt8Values - 1) / kBlockInt8Values; }

// The scale of one block: absmax / 127, or the smallest float when absmax / 127 rounds to 0 (values
// this small are then multiples of it, exact), so that no finite block divides by zero.
float scaleOf(std::span<const float> block) {
    float absmax = 0.0f;
    for (float v : block) absmax = std::max(absmax, std::fabs(v));
    if (absmax == 0.0f) return 0.0f;
    return std::max(absmax / kLevels, std::numeric_limits<float>::denorm_min());
}

}  // namespace

std::size_t blockInt8Bytes(std::size_t values) { return values + kScaleBytes * blocksOf(values); }

std::vector<std::byte> encodeBlockInt8(std::span<const float> values, std::uint64_t key) {
    for (std::size_t i = 0; i < values.size(); ++i)
        RAVEN_CHECK(std::isfinite(values[i]),
                    "update value " + std::to_string(i) + " of " + std::to_string(values.size()) + " is " +
                        (std::isnan(values[i]) ? "NaN" : "infinite") + ": it has no 8-bit form",
                    "the training diverged; lower the learning rate, or send updates as fp32 to see them");
    const PhiloxKey philoxKey{static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)};
    std::vector<std::byte> out(blockInt8Bytes(values.size()));
    std::byte* at = out.data();
    PhiloxWords draws{};
    for (std::size_t first = 0; first < values.size(); first += kBlockInt8Values) {
        const std::span<const float> block = values.subspan(first, std::min(kBlockInt8Values, values.size() - first));
        const float scale = scaleOf(block);
        RAVEN_CHECK(scale <= kMaxScale,
                    "update block " + std::to_string(first / kBlockInt8Values) + " holds a value of magnitude " +
                        std::to_string(scale * kLevels) + ", too close to float32's largest for 8-bit updates",
                    "the training diverged; lower the learning rate, or send updates as fp32 to see them");
        std::memcpy(at, &scale, kScaleBytes);
        at += kScaleBytes;
        for (std::size_t k = 0; k < block.size(); ++k, ++at) {
            const std::size_t i = first + k;
            if (scale == 0.0f) {
                *at = std::byte{0};
                continue;
            }
            if (i % 4 == 0) {  // blocks start at multiples of 256: one draw serves four values
                const std::uint64_t counter = i / 4;
                draws = philox4x32(
                    {static_cast<std::uint32_t>(counter), static_cast<std::uint32_t>(counter >> 32), 0, 0}, philoxKey);
            }
            const float scaled = block[k] / scale;  // in [-127, 127] up to the division's rounding
            const float floor = std::floor(scaled);
            const float up = scaled - floor;  // IEEE-rounded, so the same on every machine
            const float q = std::clamp(floor + (philoxUniform(draws[i % 4]) < up ? 1.0f : 0.0f), -kLevels, kLevels);
            *at = static_cast<std::byte>(static_cast<std::int8_t>(q));
        }
    }
    return out;
}

std::vector<float> decodeBlockInt8(std::span<const std::byte> bytes, std::size_t values) {
    std::vector<float> out(values);
    decodeBlockInt8Into(bytes, out);
    return out;
}

void decodeBlockInt8Into(std::span<const std::byte> bytes, std::span<float> out) {
    const std::size_t values = out.size();
    RAVEN_CHECK(bytes.size() == blockInt8Bytes(values),
                "an 8-bit update of " + std::to_string(bytes.size()) + " bytes does not hold " +
                    std::to_string(values) + " values (that takes " + std::to_string(blockInt8Bytes(values)) +
                    " bytes)",
                "the sender's element count or encoding is wrong");
    const std::byte* at = bytes.data();
    for (std::size_t first = 0; first < values; first += kBlockInt8Values) {
        float scale = 0.0f;
        std::memcpy(&scale, at, kScaleBytes);
        at += kScaleBytes;
        RAVEN_CHECK(std::isfinite(scale) && !std::signbit(scale) && scale <= kMaxScale,
                    "an 8-bit update's block " + std::to_string(first / kBlockInt8Values) + " has the scale " +
                        std::to_string(scale) + ", which is not a number in [0, FLT_MAX / 128]",
                    "the sender is broken or hostile; its update is refused");
        const std::size_t count = std::min(kBlockInt8Values, values - first);
        for (std::size_t k = 0; k < count; ++k, ++at) {
            const auto q = static_cast<std::int8_t>(*at);
            RAVEN_CHECK(q != std::numeric_limits<std::int8_t>::min(),
                        "an 8-bit update's value " + std::to_string(first + k) + " is -128, outside [-127, 127]",
                        "the sender is broken or hostile; its update is refused");
            out[first + k] = static_cast<float>(q) * scale;
        }
    }
}

}  // namespace raven
