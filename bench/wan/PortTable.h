#pragma once
// PortTable: where the bed's forwarder sends an Ethernet frame, as a learning switch does.
//
//   PortTable table(portCount);
//   for (int port : table.route(frame, arrivedOn)) ...   // learns the source, then looks up the target
//
// The router namespace joins the coordinator's and the workers' veths in one Ethernet segment with
// the forwarder as the switch: a frame goes only to the port its destination MAC was last seen on, so
// traffic to worker 1 does not eat worker 2's downlink (tbf on each port); broadcast, multicast (ARP,
// IPv6 neighbour discovery) and unknown destinations go to every other port. Pure logic, no sockets.
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

namespace raven::bench::wan {

using Mac = std::array<std::uint8_t, 6>;

class PortTable {
public:
    explicit PortTable(int portCount);

    // The ports `frame` leaves by (never the one it arrived on); empty for a runt (< 14 bytes) or a
    // frame whose destination sits behind its own port.
    std::vector<int> route(std::span<const std::byte> frame, int arrivedOn);
    int portOf(const Mac& mac) const;  // -1 when not learned

private:
    int portCount_;
    std::map<Mac, int> learned_;
};

}  // namespace raven::bench::wan
