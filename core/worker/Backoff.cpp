#include "worker/Backoff.h"

#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

namespace raven::worker {

Backoff::Backoff(Schedule schedule, std::uint64_t seed)
    : schedule_(schedule), random_(seed != 0 ? seed : QRandomGenerator::global()->generate64()) {}

int Backoff::baseDelayMs(const Schedule& schedule, int attempt) {
    // Doubling in floating point cannot overflow; clamp before converting back.
    const double base = static_cast<double>(schedule.initialMs) * std::pow(2.0, std::min(attempt, 62));
    return static_cast<int>(std::min(base, static_cast<double>(schedule.maxMs)));
}

int Backoff::nextDelayMs() {
    const int base = baseDelayMs(schedule_, attempts_);
    ++attempts_;
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    const double delay = static_cast<double>(base) * (1.0 - schedule_.jitter * u);
    return std::max(1, static_cast<int>(std::ceil(delay)));
}

}  // namespace raven::worker
