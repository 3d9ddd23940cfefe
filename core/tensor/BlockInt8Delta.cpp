#include "tensor/BlockInt8Delta.h"

#include <cmath>
#include <string>

#include "base/Error.h"
#include "tensor/BlockInt8.h"

namespace raven {

std::vector<float> weightsDifference(std::span<const float> target, std::span<const float> base) {
    RAVEN_CHECK(
        target.size() == base.size(),
        "a weights delta between " + std::to_string(target.size()) + " and " + std::to_string(base.size()) + " values",
        "both weights must be of the same model");
    std::vector<float> out(target.size());
    for (std::size_t i = 0; i < target.size(); ++i) out[i] = target[i] - base[i];
    return out;
}

std::vector<float> addBlockInt8Delta(std::span<const float> base, std::span<const std::byte> delta) {
    std::vector<float> out = decodeBlockInt8(delta, base.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = base[i] + out[i];
        RAVEN_CHECK(
            std::isfinite(out[i]),
            "a weights delta makes value " + std::to_string(i) + " of " + std::to_string(out.size()) + " overflow",
            "the sender is broken or hostile; fetch the whole weights instead");
    }
    return out;
}

}  // namespace raven
