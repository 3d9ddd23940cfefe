#pragma once
// BackgroundEvaluations: the test-split evaluations a job asks for every eval_every_steps steps, run
// on a worker thread instead of the event loop (where they held the results arriving for the next
// step), with each job's MetricsUpdates still published in step order: an update whose evaluation is
// running is held, and the updates after it wait behind it.
//
//   evaluations.evaluate(job, runner.testEvaluation(), *runner.weights(v), update);   // held until done
//   evaluations.publish(job, update, std::nullopt);     // a step without one: now, or behind those held
//   evaluations.finish(job);                            // the job ends: waits, publishes what was held
//
// One evaluation per job at a time: a step due for one while the previous is still running is
// published without it (said in its update's extra as "evaluation_skipped"), so that evaluations
// never pile up behind a slow test split. finish() before a job's last step keeps its final
// evaluation, which the caller computes itself.
#include <QByteArray>
#include <QObject>
#include <QThreadPool>

#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>

#include "coordinator/TestEvaluation.h"
#include "ledger/StoreTypes.h"
#include "protocol/raven.pb.h"

namespace raven::coordinator {

class BackgroundEvaluations {
public:
    // Called on the context's thread with each update in step order, with its evaluation if it had one.
    using Publish = std::function<void(ledger::JobId, wire::MetricsUpdate, const std::optional<nn::EvalResult>&)>;

    BackgroundEvaluations(QThreadPool& pool, QObject& context, Publish publish);
    ~BackgroundEvaluations();

    // Evaluates `weights` on the pool and publishes `update` with the result once it is in (and once
    // every update before it is out). Returns false, publishing `update` as publish() does, when an
    // evaluation of the job is still running.
    bool evaluate(ledger::JobId job, std::shared_ptr<TestEvaluation> evaluation, QByteArray weights,
                  wire::MetricsUpdate update);
    void publish(ledger::JobId job, wire::MetricsUpdate update, const std::optional<nn::EvalResult>& eval);
    // Waits for the job's running evaluation (if any) and publishes everything held for it.
    void finish(ledger::JobId job);
    bool running(ledger::JobId job) const;

private:
    struct Held {
        wire::MetricsUpdate update;
        std::optional<nn::EvalResult> eval;
        std::shared_future<std::optional<nn::EvalResult>> pending;  // valid while its evaluation runs
        std::uint64_t ticket = 0;
    };
    void completed(ledger::JobId job, std::uint64_t ticket);
    void release(ledger::JobId job);

    QThreadPool& pool_;
    QObject& context_;
    Publish publish_;
    std::map<ledger::JobId, std::deque<Held>> held_;
    std::uint64_t nextTicket_ = 1;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // queued completions check it
};

}  // namespace raven::coordinator
