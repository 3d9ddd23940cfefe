#include "coordinator/StepWaterfall.h"

#include <ctime>

#include <algorithm>
#include <utility>

namespace raven::coordinator {

namespace {

double msBetween(StepWaterfall::Clock::time_point a, StepWaterfall::Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

double StepWaterfall::processCpuSeconds() {
    timespec t{};
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) != 0) return 0.0;
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

StepWaterfall::PerWorker& StepWaterfall::Account::sent(ledger::ContributorId contributor, std::int64_t bytes) {
    bytesOut += bytes;
    return workers[contributor];
}

void StepWaterfall::Account::add(ledger::ContributorId contributor, const Result& r) {
    PerWorker& w = workers[contributor];
    w.computeMs += r.computeMs;
    w.uploadMs += r.uploadMs;
    w.ingestMs += r.ingestMs;
    ++w.units;
    bytesIn += r.bytes;
    samples += r.samples;
}

void StepWaterfall::begin(Clock::time_point now) {
    Account next = std::exchange(ahead_, Account{});
    *this = StepWaterfall();
    step_ = std::move(next);
    begun_ = now;
    lastAccepted_ = now;
    applyStarted_ = now;
    cpuAtBegin_ = processCpuSeconds();
}

void StepWaterfall::weightsSent(ledger::ContributorId contributor, std::int64_t bytes, Clock::time_point now) {
    PerWorker& w = step_.sent(contributor, bytes);
    if (w.weightsOutMs < 0.0) w.weightsOutMs = std::max(0.0, msBetween(begun_, now));
}

void StepWaterfall::weightsSentAhead(ledger::ContributorId contributor, std::int64_t bytes) {
    PerWorker& w = ahead_.sent(contributor, bytes);
    if (w.weightsOutMs < 0.0) w.weightsOutMs = 0.0;
}

void StepWaterfall::acceptedAhead(ledger::ContributorId contributor, const Result& r) { ahead_.add(contributor, r); }

void StepWaterfall::accepted(ledger::ContributorId contributor, const Result& r, Clock::time_point now) {
    step_.add(contributor, r);
    lastAccepted_ = std::max(lastAccepted_, now);
}

void StepWaterfall::report(Clock::time_point applied, wire::MetricsUpdate* update) {
    auto& extra = *update->mutable_extra();
    const double wallMs = std::max(1e-3, msBetween(begun_, applied));
    const double stepMs = std::max(0.0, msBetween(std::min(lastAccepted_, applyStarted_), applied));
    double slowest = 0.0;  // the most compute one worker did in the step
    for (const auto& [id, w] : step_.workers)
        if (w.units > 0) slowest = std::max(slowest, w.computeMs);
    double compute = 0.0, upload = 0.0, ingest = 0.0, weights = 0.0, idle = 0.0, waitedForSlowest = 0.0;
    int workers = 0, units = 0;
    for (const auto& [id, w] : step_.workers) {
        if (w.units == 0) continue;  // fetched weights but delivered nothing this step
        ++workers;
        units += w.units;
        const double out = std::max(0.0, w.weightsOutMs);
        compute += w.computeMs;
        upload += w.uploadMs;
        ingest += w.ingestMs;
        weights += out;
        const double idleHere = std::max(0.0, wallMs - out - w.computeMs - w.uploadMs - w.ingestMs - stepMs);
        idle += idleHere;
        waitedForSlowest += std::min(idleHere, slowest - w.computeMs);
    }
    const double n = std::max(1, workers);
    extra["wall_ms"] = wallMs;
    extra["workers"] = workers;
    extra["units"] = units;
    extra["utilization"] = compute / (n * wallMs);
    extra["compute_balance"] = slowest > 0.0 ? compute / (n * slowest) : 1.0;
    extra["weights_out_ms"] = weights / n;
    extra["compute_ms"] = compute / n;
    extra["upload_ms"] = upload / n;
    extra["ingest_ms"] = ingest / n;
    extra["step_ms"] = stepMs;
    extra["idle_ms"] = idle / n;
    extra["slowest_wait_ms"] = waitedForSlowest / n;
    extra["compute_samples_per_s"] = compute > 0.0 ? static_cast<double>(step_.samples) / (compute / 1000.0) : 0.0;
    extra["coordinator_cpu_ms_per_unit"] = 1000.0 * (processCpuSeconds() - cpuAtBegin_) / std::max(1, units);
    const double samples = static_cast<double>(std::max<std::int64_t>(1, step_.samples));
    extra["bytes_in_per_sample"] = static_cast<double>(step_.bytesIn) / samples;
    extra["bytes_out_per_sample"] = static_cast<double>(step_.bytesOut) / samples;
}

}  // namespace raven::coordinator
