#include "coordinator/BackgroundEvaluations.h"

#include <QMetaObject>
#include <QtGlobal>

namespace raven::coordinator {

BackgroundEvaluations::BackgroundEvaluations(QThreadPool& pool, QObject& context, Publish publish)
    : pool_(pool), context_(context), publish_(std::move(publish)) {}

BackgroundEvaluations::~BackgroundEvaluations() {
    *alive_ = false;
    // The pool's tasks own what they use; their queued completions find alive_ false.
}

bool BackgroundEvaluations::running(ledger::JobId job) const {
    const auto it = held_.find(job);
    if (it == held_.end()) return false;
    for (const Held& h : it->second)
        if (h.pending.valid()) return true;
    return false;
}

bool BackgroundEvaluations::evaluate(ledger::JobId job, std::shared_ptr<TestEvaluation> evaluation,
                                     QByteArray weights, wire::MetricsUpdate update) {
    if (running(job)) {
        (*update.mutable_extra())["evaluation_skipped"] = 1.0;
        publish(job, std::move(update), std::nullopt);
        return false;
    }
    auto promise = std::make_shared<std::promise<std::optional<nn::EvalResult>>>();
    Held held;
    held.update = std::move(update);
    held.pending = promise->get_future().share();
    held.ticket = nextTicket_++;
    const std::uint64_t ticket = held.ticket;
    held_[job].push_back(std::move(held));
    pool_.start([this, alive = alive_, job, ticket, promise, evaluation = std::move(evaluation),
                 weights = std::move(weights)] {
        try {
            promise->set_value(evaluation->evaluate(weights));
        } catch (const std::exception& e) {
            // The step's figures go out without it; training is not the evaluation's to stop.
            qWarning("coordinator: evaluating job %lld failed: %s", static_cast<long long>(job), e.what());
            promise->set_value(std::nullopt);
        }
        QMetaObject::invokeMethod(
            &context_,
            [this, alive, job, ticket] {
                if (*alive) completed(job, ticket);
            },
            Qt::QueuedConnection);
    });
    return true;
}

void BackgroundEvaluations::publish(ledger::JobId job, wire::MetricsUpdate update,
                                    const std::optional<nn::EvalResult>& eval) {
    auto it = held_.find(job);
    if (it == held_.end() || it->second.empty()) return publish_(job, std::move(update), eval);
    Held held;
    held.update = std::move(update);
    held.eval = eval;
    it->second.push_back(std::move(held));
}

void BackgroundEvaluations::completed(ledger::JobId job, std::uint64_t ticket) {
    auto it = held_.find(job);
    if (it == held_.end()) return;  // finished (waited for) already
    for (Held& h : it->second)
        if (h.ticket == ticket && h.pending.valid()) {
            h.eval = h.pending.get();
            h.pending = {};
        }
    release(job);
}

void BackgroundEvaluations::release(ledger::JobId job) {
    auto it = held_.find(job);
    if (it == held_.end()) return;
    std::deque<Held> ready;
    while (!it->second.empty() && !it->second.front().pending.valid()) {
        ready.push_back(std::move(it->second.front()));
        it->second.pop_front();
    }
    if (it->second.empty()) held_.erase(it);
    for (Held& h : ready) publish_(job, std::move(h.update), h.eval);
}

void BackgroundEvaluations::finish(ledger::JobId job) {
    auto it = held_.find(job);
    if (it == held_.end()) return;
    for (Held& h : it->second)
        if (h.pending.valid()) {
            h.eval = h.pending.get();  // waits: the job's last figures include it
            h.pending = {};
        }
    release(job);
}

}  // namespace raven::coordinator
