#include "DelayLine.h"

#include <stdexcept>
#include <string>

namespace raven::bench::wan {

DelayLine::DelayLine(const LinkModel& model) : model_(model), random_(model.seed) {
    if (model.oneWayDelay.count() < 0) throw std::invalid_argument("one-way delay must be >= 0");
    if (!(model.lossProbability >= 0.0 && model.lossProbability < 1.0))
        throw std::invalid_argument("loss probability must be in [0, 1), got " + std::to_string(model.lossProbability));
}

bool DelayLine::admit(std::vector<std::byte> bytes, int port, Clock::time_point now) {
    // The draw happens for every packet, lost or not, so the n-th packet's fate depends on n alone.
    const bool lost = model_.lossProbability > 0.0 && uniform_(random_) < model_.lossProbability;
    if (lost) {
        ++counters_.lost;
        return false;
    }
    if (queuedBytes_ + bytes.size() > model_.maxQueuedBytes) {
        ++counters_.overflow;
        return false;
    }
    queuedBytes_ += bytes.size();
    queue_.push_back(Packet{std::move(bytes), port, now + model_.oneWayDelay});
    ++counters_.admitted;
    return true;
}

std::vector<Packet> DelayLine::takeDue(Clock::time_point now) {
    std::vector<Packet> due;
    while (!queue_.empty() && queue_.front().due <= now) {
        queuedBytes_ -= queue_.front().bytes.size();
        due.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    counters_.delivered += due.size();
    return due;
}

std::chrono::microseconds DelayLine::untilNextDue(Clock::time_point now) const {
    if (queue_.empty()) return std::chrono::microseconds(-1);
    if (queue_.front().due <= now) return std::chrono::microseconds(0);
    // Rounded up: waking early would spin; a microsecond late is nothing beside a WAN delay.
    return std::chrono::ceil<std::chrono::microseconds>(queue_.front().due - now);
}

}  // namespace raven::bench::wan
