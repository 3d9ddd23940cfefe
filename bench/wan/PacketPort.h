#pragma once
// PacketPort: one network interface read and written whole frames at a time (an AF_PACKET raw socket,
// promiscuous, bound to the interface), the forwarder's view of one veth in the router namespace.
//
//   PacketPort port("rw-w1");
//   while (auto frame = port.receive()) ...   // non-blocking; nullopt when nothing waits
//   port.send(frame);                          // false with errno ENOBUFS when tbf's queue is full
//
// Frames the host itself sends on the interface are not received (the forwarder would loop its own
// output back in). Needs CAP_NET_RAW; the constructor throws with what to do when it is missing.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace raven::bench::wan {

class PacketPort {
public:
    explicit PacketPort(const std::string& interface);
    ~PacketPort();
    PacketPort(const PacketPort&) = delete;
    PacketPort& operator=(const PacketPort&) = delete;

    int fd() const { return fd_; }
    const std::string& name() const { return name_; }
    std::optional<std::vector<std::byte>> receive();
    bool send(std::span<const std::byte> frame);

private:
    std::string name_;
    int fd_ = -1;
    std::vector<std::byte> buffer_;
    bool warnedOversize_ = false;
};

}  // namespace raven::bench::wan
