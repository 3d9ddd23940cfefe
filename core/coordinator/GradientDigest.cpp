#include "coordinator/GradientDigest.h"

#include "data/Sha256.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>

namespace raven::coordinator {

QString gradientDigest(std::span<const float> gradient) {
    constexpr std::uint32_t kCanonicalNaN = 0x7fc00000u;
    data::Sha256 hash;
    // Hashed in blocks: one copy of a model's gradient is not needed to name it.
    constexpr std::size_t kBlock = 4096;
    std::array<char, kBlock * 4> bytes{};
    for (std::size_t begin = 0; begin < gradient.size(); begin += kBlock) {
        const std::size_t n = std::min(kBlock, gradient.size() - begin);
        for (std::size_t i = 0; i < n; ++i) {
            const float v = gradient[begin + i];
            const std::uint32_t bits = std::isnan(v) ? kCanonicalNaN : std::bit_cast<std::uint32_t>(v);
            for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xffu);
        }
        hash.add(QByteArrayView(bytes.data(), static_cast<qsizetype>(n * 4)));
    }
    return QString::fromLatin1(hash.finish().toHex());
}

}  // namespace raven::coordinator
