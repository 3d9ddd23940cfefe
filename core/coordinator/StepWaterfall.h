#pragma once
// StepWaterfall: where one step's time went, as the coordinator sees it, for metrics.jsonl and the
// benchmark (docs/benchmarks.md, "Distributed training").
//
//   waterfall.begin(now);                                   // the previous step applied
//   waterfall.weightsSent(contributor, bytes, now);         // FetchWeights served
//   waterfall.shardSent(bytes);                             // FetchShard served
//   waterfall.accepted(contributor, {compute, upload, ingest, bytes, samples});   // each accepted result
//   waterfall.applyStarted(now); ... waterfall.report(now, &update);              // the step applied
//
// Per worker of the step, its wall time (previous step applied -> this step applied) is cut into:
//   weights out  previous step applied -> its weights for the step served (the step's units made,
//                the lease answered, the fetch)
//   compute      the compute time its results report (the worker's own clock)
//   upload       first to last part of each of its results arriving
//   ingest       a complete result -> accepted (checks, durable write, the ledger's transaction)
//   step         the last acceptance -> the step applied (sum, optimizer, state file), for everyone
//   idle         what is left: waits for a lease, shard reads, the worker's own serial waits, and
//                (slowest_wait_ms, a part of idle) the wait for the worker that computed longest:
//                min(its idle, the slowest worker's compute - its own)
// The figures are averages over the step's workers, in milliseconds. Phases of one worker can
// overlap (a result uploading while the next unit computes); idle is then clamped at 0. Units of
// the next step leased while this one is applied (JobRunner::leasesAhead()) are the next step's:
// their weights and results are put aside (weightsSentAhead(), acceptedAhead()) and counted from
// its begin(), their weights as served at once.
//
// Besides: utilization = sum of compute / (workers x wall); compute_balance = sum of compute /
// (workers x the slowest worker's compute), the utilization the step's compute times alone allow
// (were nothing else to take time, everyone would still wait for the slowest); the compute-only
// rate (samples per second of compute: what one worker does when it never waits), the
// coordinator's CPU time per unit over the step, and the bytes per sample in each direction
// (results in; weights and shards out).
#include <chrono>
#include <cstdint>
#include <map>

#include "ledger/StoreTypes.h"
#include "protocol/raven.pb.h"

namespace raven::coordinator {

class StepWaterfall {
public:
    using Clock = std::chrono::steady_clock;

    struct Result {
        double computeMs = 0.0;
        double uploadMs = 0.0;
        double ingestMs = 0.0;
        std::int64_t bytes = 0;
        std::int64_t samples = 0;
    };

    // Starts the account of a step at `now`: the previous step's application (so that making the
    // next step's units counts too, under weights out), or the job's start or resumption.
    void begin(Clock::time_point now);
    bool begun() const { return begun_ != Clock::time_point{}; }
    void weightsSent(ledger::ContributorId contributor, std::int64_t bytes, Clock::time_point now);
    void shardSent(std::int64_t bytes) { step_.bytesOut += bytes; }
    void accepted(ledger::ContributorId contributor, const Result& result, Clock::time_point now);
    void weightsSentAhead(ledger::ContributorId contributor, std::int64_t bytes);
    void acceptedAhead(ledger::ContributorId contributor, const Result& result);
    void applyStarted(Clock::time_point now) { applyStarted_ = now; }
    // Writes the step's figures into update.extra (keys in docs/benchmarks.md) and starts over.
    void report(Clock::time_point applied, wire::MetricsUpdate* update);

    // CPU time this process has used, in seconds.
    static double processCpuSeconds();

private:
    struct PerWorker {
        double weightsOutMs = -1.0;  // < 0: none served in this step (it had them, or did nothing)
        double computeMs = 0.0, uploadMs = 0.0, ingestMs = 0.0;
        int units = 0;
    };
    // What a step's workers were sent and delivered.
    struct Account {
        std::int64_t bytesIn = 0, bytesOut = 0, samples = 0;
        std::map<ledger::ContributorId, PerWorker> workers;
        PerWorker& sent(ledger::ContributorId contributor, std::int64_t bytes);
        void add(ledger::ContributorId contributor, const Result& r);
    };
    Clock::time_point begun_{};
    Clock::time_point applyStarted_{};
    Clock::time_point lastAccepted_{};
    double cpuAtBegin_ = 0.0;
    Account step_;
    Account ahead_;  // the next step's, so far (see the top)
};

}  // namespace raven::coordinator
