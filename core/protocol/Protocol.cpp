#include "protocol/Protocol.h"

#include <algorithm>

namespace raven::protocol {

std::optional<std::uint32_t> negotiateVersion(VersionRange ours, VersionRange theirs) {
    const std::uint32_t high = std::min(ours.max, theirs.max);
    const std::uint32_t low = std::max(ours.min, theirs.min);
    if (high < low || high == 0) return std::nullopt;
    return high;
}

std::string describeVersions(VersionRange range) {
    std::string text = "protocol version " + std::to_string(range.max);
    if (range.min != range.max)
        text += " (accepts " + std::to_string(range.min) + ".." + std::to_string(range.max) + ")";
    return text;
}

}  // namespace raven::protocol
