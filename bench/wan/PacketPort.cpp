#include "PacketPort.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace raven::bench::wan {
namespace {

std::runtime_error failure(const std::string& what, const std::string& interface) {
    std::string message = what + " on " + interface + ": " + std::strerror(errno);
    if (errno == EPERM || errno == EACCES)
        message += " (raw sockets need root or CAP_NET_RAW; bench/wan/bed.sh runs the forwarder as root)";
    if (errno == ENODEV) message += " (no such interface in this namespace; bench/wan/bed.sh up creates it)";
    return std::runtime_error(message);
}

}  // namespace

PacketPort::PacketPort(const std::string& interface) : name_(interface), buffer_(65536 + 64) {
    const unsigned index = if_nametoindex(interface.c_str());
    if (index == 0) throw failure("cannot find the interface", interface);
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd_ < 0) throw failure("cannot open a raw socket", interface);
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = static_cast<int>(index);
    packet_mreq promiscuous{};
    promiscuous.mr_ifindex = static_cast<int>(index);
    promiscuous.mr_type = PACKET_MR_PROMISC;
    const int one = 1;
    // Large buffers: a 100 Mbit/s burst must not be dropped here, before tbf and the delay line.
    const int bufferBytes = 8 << 20;
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promiscuous, sizeof promiscuous) != 0 ||
        setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bufferBytes, sizeof bufferBytes) != 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &bufferBytes, sizeof bufferBytes) != 0) {
        const auto error = failure("cannot set up the raw socket", interface);
        close(fd_);
        throw error;
    }
}

PacketPort::~PacketPort() {
    if (fd_ >= 0) close(fd_);
}

std::optional<std::vector<std::byte>> PacketPort::receive() {
    for (;;) {
        sockaddr_ll from{};
        socklen_t fromLength = sizeof from;
        const ssize_t n =
            recvfrom(fd_, buffer_.data(), buffer_.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &fromLength);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
            throw failure("cannot read a frame", name_);
        }
        // PACKET_IGNORE_OUTGOING covers this on every kernel the bed runs on; the check keeps a
        // looped-back frame from ever entering the line.
        if (from.sll_pkttype == PACKET_OUTGOING) continue;
        if (static_cast<std::size_t>(n) > buffer_.size()) {
            // Dropped, not forwarded in part; the link keeps serving the other frames.
            if (!warnedOversize_)
                std::fprintf(stderr,
                             "raven-wan-forwarder: dropping a %zd-byte frame on %s: segmentation offload is on; "
                             "bench/wan/bed.sh turns it off with ethtool -K\n",
                             n, name_.c_str());
            warnedOversize_ = true;
            continue;
        }
        return std::vector<std::byte>(buffer_.begin(), buffer_.begin() + n);
    }
}

bool PacketPort::send(std::span<const std::byte> frame) {
    for (;;) {
        if (::send(fd_, frame.data(), frame.size(), MSG_DONTWAIT) >= 0) return true;
        if (errno == EINTR) continue;
        return false;
    }
}

}  // namespace raven::bench::wan
