#pragma once
// DelayLine: the WAN bed's link model, a pure function over a packet queue (no sockets, no clock).
//
//   DelayLine line({.oneWayDelay = 25ms, .lossProbability = 0.01, .seed = 7});
//   line.admit(std::move(frame), egressPort, now);       // false: lost (or the queue is full)
//   for (auto& p : line.takeDue(now)) send(p.port, p.bytes);
//   poll(..., line.untilNextDue(now));
//
// - Delay: every admitted packet leaves exactly oneWayDelay after it arrived. The delay is one
//   constant, so the queue is in arrival order and order is kept in every direction (no reordering,
//   as on a real path without route changes).
// - Loss: each packet is dropped with lossProbability, decided by a generator seeded with `seed`, so
//   the same packets are lost in the same order run after run (the n-th admitted packet's fate
//   depends only on the seed and n).
// - Bound: at most maxQueuedBytes wait in the line; a packet beyond that is dropped (a router's
//   buffer is finite; the rate limit itself is tbf's, on the veths).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace raven::bench::wan {

using Clock = std::chrono::steady_clock;

struct LinkModel {
    std::chrono::microseconds oneWayDelay{0};
    double lossProbability = 0.0;  // in [0, 1)
    std::uint64_t seed = 1;
    std::size_t maxQueuedBytes = 64u << 20;
};

struct Packet {
    std::vector<std::byte> bytes;
    int port = -1;  // where it leaves
    Clock::time_point due;
};

struct LineCounters {
    std::uint64_t admitted = 0;
    std::uint64_t lost = 0;      // by the loss model
    std::uint64_t overflow = 0;  // the queue was full
    std::uint64_t delivered = 0;
};

class DelayLine {
public:
    explicit DelayLine(const LinkModel& model);

    // Queues the packet to leave at now + delay; false when the loss model or a full queue drops it.
    bool admit(std::vector<std::byte> bytes, int port, Clock::time_point now);
    // The packets due at `now`, in arrival order, removed from the line.
    std::vector<Packet> takeDue(Clock::time_point now);
    // How long until the next packet is due (zero when one is due now); negative when the line is
    // empty (wait for input only).
    std::chrono::microseconds untilNextDue(Clock::time_point now) const;

    std::size_t queuedPackets() const { return queue_.size(); }
    std::size_t queuedBytes() const { return queuedBytes_; }
    const LineCounters& counters() const { return counters_; }

private:
    LinkModel model_;
    std::mt19937_64 random_;
    std::uniform_real_distribution<double> uniform_{0.0, 1.0};
    std::deque<Packet> queue_;
    std::size_t queuedBytes_ = 0;
    LineCounters counters_;
};

}  // namespace raven::bench::wan
