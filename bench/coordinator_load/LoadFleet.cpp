#include "LoadFleet.h"

#include <algorithm>

#include "protocol/ProtocolClient.h"

namespace raven::bench {

namespace {
constexpr int kHeartbeatTickMs = 50;
}

LoadFleet::LoadFleet(Options options) : options_(std::move(options)) {
    options_.active = std::clamp(options_.active, 0, options_.workers);
    workers_.reserve(static_cast<std::size_t>(options_.workers));
    for (int i = 0; i < options_.workers; ++i) workers_.push_back(std::make_unique<SimulatedWorker>(i, *this));
    heartbeatTicker_.setInterval(kHeartbeatTickMs);
    QObject::connect(&heartbeatTicker_, &QTimer::timeout, [this] { tickHeartbeats(); });
    window_.since.start();
}

LoadFleet::~LoadFleet() = default;

void LoadFleet::connectAll(std::function<void()> done) {
    connected_ = std::move(done);
    connectClock_.start();
    const int first = std::min(options_.connectConcurrency, options_.workers);
    for (int i = 0; i < first; ++i) openNext();
    if (options_.workers == 0 && connected_) connected_();
}

void LoadFleet::openNext() {
    if (opened_ >= options_.workers) return;
    workers_[static_cast<std::size_t>(opened_++)]->open(options_.url);
}

void LoadFleet::onRegistered(SimulatedWorker&, int heartbeatMs) {
    ++registered_;
    if (heartbeatMs > 0 && heartbeatMs_ == 0) {
        heartbeatMs_ = heartbeatMs;
        heartbeatTicker_.start();
    }
    if (++settled_ == options_.workers) {
        connectSeconds_ = static_cast<double>(connectClock_.elapsed()) / 1000.0;
        if (connected_) connected_();
    }
    openNext();
}

void LoadFleet::onLost(SimulatedWorker&, SimulatedWorker::Phase was, const QString& reason) {
    ++lost_;
    ++lostReasons_[reason.left(160)];
    if (firstError_.isEmpty()) firstError_ = reason;
    if (was == SimulatedWorker::Phase::Holding) {
        --registered_;
        return;
    }
    // Never came up: it counts as settled for the connect phase.
    if (++settled_ == options_.workers) {
        connectSeconds_ = static_cast<double>(connectClock_.elapsed()) / 1000.0;
        if (connected_) connected_();
    }
    openNext();
}

QStringList LoadFleet::lostReasons() const {
    std::vector<std::pair<int, QString>> sorted;
    for (auto it = lostReasons_.begin(); it != lostReasons_.end(); ++it) sorted.emplace_back(it.value(), it.key());
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    QStringList out;
    for (const auto& [count, reason] : sorted) out << QStringLiteral("%1 (%2)").arg(reason).arg(count);
    return out;
}

void LoadFleet::startWork() {
    int started = 0;
    for (auto& worker : workers_) {
        if (started >= options_.active) break;
        if (worker->phase() != SimulatedWorker::Phase::Holding) continue;
        worker->startWorking();
        ++started;
    }
    working_ = started;
}

void LoadFleet::resetWindow() {
    window_ = Window{};
    window_.since.start();
}

void LoadFleet::tickHeartbeats() {
    if (heartbeatMs_ <= 0 || workers_.empty()) return;
    // Every worker once per interval, spread evenly over the interval's ticks.
    heartbeatDebt_ += static_cast<double>(workers_.size()) * kHeartbeatTickMs / heartbeatMs_;
    while (heartbeatDebt_ >= 1.0) {
        heartbeatDebt_ -= 1.0;
        workers_[heartbeatCursor_]->heartbeat();
        heartbeatCursor_ = (heartbeatCursor_ + 1) % workers_.size();
    }
}

void LoadFleet::onLeaseAnswered(int units, double latencyMs) {
    if (units == 0) {
        ++window_.emptyGrants;
        return;
    }
    window_.leaseMs.push_back(latencyMs);
}

void LoadFleet::onResultAck(wire::ResultStatus status, const QString& reason) {
    switch (status) {
        case wire::RESULT_STATUS_ACCEPTED:
            ++window_.accepted;
            break;
        case wire::RESULT_STATUS_DUPLICATE:
            ++window_.duplicate;
            break;
        default:
            ++window_.rejected;
            if (firstError_.isEmpty()) firstError_ = QStringLiteral("result rejected: %1").arg(reason);
            break;
    }
}

void LoadFleet::onHeartbeatAck(double ms) { window_.heartbeatMs.push_back(ms); }

void LoadFleet::onError(const QString& message) {
    ++window_.errors;
    if (firstError_.isEmpty()) firstError_ = message;
}

void LoadFleet::needTemplate(SimulatedWorker& worker, const wire::WorkUnit& unit) {
    if (template_.ready() || template_.building() || !templateError_.isEmpty()) return;
    template_.build(worker.client(), unit, [this](const QString& error) {
        if (!error.isEmpty()) {
            templateError_ = error;
            return;
        }
        for (auto& w : workers_) w->flushWaitingUnits();
    });
}

}  // namespace raven::bench
