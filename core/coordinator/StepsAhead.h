#pragma once
// StepsAhead: each job's step taken ahead of its last acceptance (JobRunner::takeStepAhead()), from
// the moment the step's last result is checked until the store has accepted that very result and
// the step is adopted, or until it is dropped.
//
//   if (auto work = runner.takeStepAhead(...)) serial = ahead.begin(job, &runner, origin, work);
//   ... pool: copyStateAhead, computeWeights ...   ahead.computed(job, serial, product);
//   ... the batch's store transaction: ahead.judged(job, origin, accepted) for each result ...
//   advance(): if (ahead.computing(job)) wait; if (ahead.ready(job, runner, version)) adopt(ahead.take(job))
//
// With one worker and one unit a step (the MLP at batch 1024), the step's last result used to wait
// for its file's fsync and the store's transaction before V + 1's weights were even begun: ~3 ms of
// a ~25 ms step in which the coordinator mostly waited on the disk. V + 1 is a pure function of V's
// state and V's results, so the weights can be computed meanwhile, on copies of the model and
// optimizer; nothing of it is durable or seen until the store has accepted the result they were
// computed from. A step whose last result is refused, fails to be written, or is replaced by
// another's is dropped, and applied as usual from what the store accepted.
//
// Stages: Computing -> Computed (or Failed: the usual path applies the step and reports why);
// `accepted` is set by judged() when the store paid the very result (connection, request,
// contributor, unit) the step was taken from. Any other outcome for that unit drops it.
#include <QtGlobal>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "coordinator/JobRunner.h"
#include "ledger/StoreTypes.h"
#include "protocol/ProtocolServer.h"

namespace raven::coordinator {

class StepsAhead {
public:
    // The result a step was taken from.
    struct Origin {
        protocol::ConnectionId connection = 0;
        std::uint64_t requestId = 0;
        ledger::ContributorId contributor = 0;
        ledger::WorkUnitId unit = 0;
        bool operator==(const Origin&) const = default;
    };
    enum class Stage { Computing, Computed, Failed };
    struct Step {
        const JobRunner* runner = nullptr;  // which runner took it (a job's runner may be replaced)
        qint64 version = 0;                 // V: the step it applies
        Origin origin;
        Stage stage = Stage::Computing;
        bool accepted = false;
        std::uint64_t serial = 0;
        std::shared_ptr<StepWork> work;
        std::optional<StepProduct> product;  // once Computed
    };

    bool has(ledger::JobId job) const { return steps_.count(job) > 0; }
    bool computing(ledger::JobId job) const;
    // Starts one for `job` (none may be there); returns its serial for computed().
    std::uint64_t begin(ledger::JobId job, const JobRunner* runner, Origin origin, std::shared_ptr<StepWork> work);
    // The pool's answer: `product` nullopt when computing failed. Ignored for a step no longer there.
    void computed(ledger::JobId job, std::uint64_t serial, std::optional<StepProduct> product);
    // The store's verdict on a result of `job`; only its step's last unit's matters.
    void judged(ledger::JobId job, const Origin& result, bool accepted);
    // Computed, its result accepted, and taken by `runner` at `version`.
    bool ready(ledger::JobId job, const JobRunner* runner, qint64 version) const;
    // The ready step, moved out; nullopt (and dropped) when it is not ready.
    std::optional<Step> take(ledger::JobId job, const JobRunner* runner, qint64 version);
    void drop(ledger::JobId job) { steps_.erase(job); }

    // Steps adopted (their weights computed ahead were used) and dropped, since the start.
    std::uint64_t adopted() const { return adopted_; }
    std::uint64_t dropped() const { return dropped_; }

private:
    std::map<ledger::JobId, Step> steps_;
    std::uint64_t nextSerial_ = 1;
    std::uint64_t adopted_ = 0;
    std::uint64_t dropped_ = 0;
};

}  // namespace raven::coordinator
