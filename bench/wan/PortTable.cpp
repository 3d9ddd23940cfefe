#include "PortTable.h"

#include <algorithm>
#include <stdexcept>

namespace raven::bench::wan {
namespace {

constexpr std::size_t kEthernetHeader = 14;

Mac macAt(std::span<const std::byte> frame, std::size_t offset) {
    Mac mac{};
    for (std::size_t i = 0; i < mac.size(); ++i) mac[i] = static_cast<std::uint8_t>(frame[offset + i]);
    return mac;
}

}  // namespace

PortTable::PortTable(int portCount) : portCount_(portCount) {
    if (portCount < 2) throw std::invalid_argument("a switch needs at least two ports");
}

std::vector<int> PortTable::route(std::span<const std::byte> frame, int arrivedOn) {
    if (frame.size() < kEthernetHeader || arrivedOn < 0 || arrivedOn >= portCount_) return {};
    const Mac destination = macAt(frame, 0);
    const Mac source = macAt(frame, 6);
    // A group address (the low bit of the first octet) is never a station, so never learned.
    if ((source[0] & 1) == 0) learned_[source] = arrivedOn;
    if ((destination[0] & 1) == 0) {
        if (auto it = learned_.find(destination); it != learned_.end()) {
            if (it->second == arrivedOn) return {};
            return {it->second};
        }
    }
    std::vector<int> flood;
    for (int port = 0; port < portCount_; ++port)
        if (port != arrivedOn) flood.push_back(port);
    return flood;
}

int PortTable::portOf(const Mac& mac) const {
    auto it = learned_.find(mac);
    return it == learned_.end() ? -1 : it->second;
}

}  // namespace raven::bench::wan
