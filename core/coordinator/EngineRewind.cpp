// Rewinds: when a contributor is caught, its results that were accepted unchecked (their credits
// still pending) may have steered a verifiable or spot-checked job's model. They are replayed, and
// the steps from the first wrong one are recomputed without them (ModelRewind.h,
// docs/verification.md). The rewind runs on the pool at the job's next step boundary (when the step
// in progress has all its results), so the workers never see two different weights under one version
// number: the units of the step in progress were computed on the old weights, and the coordinator
// computes that step again itself.
#include <QMetaObject>

#include <algorithm>
#include <map>
#include <set>

#include "base/Error.h"
#include "coordinator/Engine.h"
#include "coordinator/WireIds.h"
#include "ledger/TrustBook.h"

namespace raven::coordinator {

void Engine::noteRewindsDue(ledger::ContributorId contributor) {
    // Called before its credits are revoked: its results whose credit is pending now are the ones no
    // replay checked. The ledger names them (as many as the credits' window holds, however long its
    // jobs ran), and they are on disk as due before the revocation, so no crash in between loses them.
    std::map<ledger::JobId, qint64> firstKept;  // per rewindable job: its earliest step still archived
    std::set<ledger::JobId> noted;
    for (const ledger::UnitCredit& credit : ledger_->pendingCredits(contributor)) {
        const JobRunner* r = runner(credit.job);
        if (!r || !r->rewindable()) continue;
        auto first = firstKept.find(credit.job);
        if (first == firstKept.end()) {
            const QList<qint64> kept = r->archive().steps();
            first = firstKept.emplace(credit.job, kept.isEmpty() ? r->version() : std::min(kept.first(), r->version()))
                        .first;
        }
        const std::optional<ledger::WorkUnit> unit = store_->workUnit(credit.workUnit);
        // A step the archive no longer holds has only final results: nothing there can be rewound.
        if (!unit || unit->modelVersion < first->second || unit->acceptedFrom != contributor) continue;
        const bool fresh = rewindsDue_.count(credit.job) == 0;
        DueRewind& due = rewindsDue_[credit.job];
        due.earliestStep = fresh ? unit->modelVersion : std::min(due.earliestStep, unit->modelVersion);
        due.suspects.insert(unit->id);
        if (!due.contributors.contains(contributor)) due.contributors << contributor;
        noted.insert(credit.job);
    }
    for (const ledger::JobId job : noted) persistDue(job);
}

void Engine::settleQuarantines() {
    // A crash between recording a quarantine (TrustBook) and revoking its credits leaves them pending,
    // and, when it came before due.json, no rewind due for them. Done now as Engine::quarantine does
    // it live: the rewinds due on disk first (their suspects are these pending credits), then the
    // revocation. A contributor whose credits were all settled before the crash costs one query.
    for (const ledger::StoredTrust& t : trust_->all()) {
        if (!t.quarantined()) continue;
        noteRewindsDue(t.contributor);
        const ledger::CreditSweep withheld =
            ledger_->revokePendingCredits(t.contributor, ledger::RevokeReason::Quarantined, utcNow());
        if (withheld.credits > 0)
            qWarning(
                "coordinator: %s was quarantined before a stop that left %lld of its credits pending: "
                "revoked now, after the rewinds of its unchecked results were noted",
                qPrintable(contributorLabel(t.contributor)), static_cast<long long>(withheld.credits));
    }
}

void Engine::persistDue(ledger::JobId job) {
    const JobRunner* r = runner(job);
    if (!r) return;
    // What is due, and what a rewind running now does: a restart does both (again).
    std::set<ledger::WorkUnitId> suspects;
    if (const auto due = rewindsDue_.find(job); due != rewindsDue_.end()) suspects = due->second.suspects;
    if (const auto running = rewinding_.find(job); running != rewinding_.end())
        suspects.insert(running->second.begin(), running->second.end());
    r->archive().setDue(suspects);
}

void Engine::restoreDueRewind(const JobRunner& r) {
    // A rewind cut short before its state file was written is done again; one that wrote it is
    // finished here (its staged files moved in).
    const RewindArchive archive = r.archive();
    if (archive.settleStaging(r.files().statePath()))
        qInfo("coordinator: job %lld: a rewind interrupted after its state file was written was finished",
              static_cast<long long>(r.id()));
    const std::set<ledger::WorkUnitId> suspects = archive.due();
    if (suspects.empty()) return;
    DueRewind& due = rewindsDue_[r.id()];
    bool first = true;
    for (const ledger::WorkUnitId id : suspects) {
        const std::optional<ledger::WorkUnit> unit = store_->workUnit(id);
        if (!unit) continue;
        due.suspects.insert(id);
        due.earliestStep = first ? unit->modelVersion : std::min(due.earliestStep, unit->modelVersion);
        first = false;
        if (unit->acceptedFrom && !due.contributors.contains(*unit->acceptedFrom))
            due.contributors << *unit->acceptedFrom;
    }
    if (due.suspects.empty()) rewindsDue_.erase(r.id());
    qInfo("coordinator: job %lld: a rewind of %zu result(s) is due (kept across the restart)",
          static_cast<long long>(r.id()), suspects.size());
}

void Engine::startRewind(JobRunner& r, const QList<ledger::WorkUnit>& units) {
    const ledger::JobId job = r.id();
    const DueRewind due = rewindsDue_.at(job);
    rewindsDue_.erase(job);
    QStringList names;
    for (const ledger::ContributorId c : due.contributors) names << contributorLabel(c);
    const QString who = names.join(QStringLiteral(", "));
    auto in = std::make_shared<RewindInput>();
    in->job = job;
    in->config = r.config();
    in->specJson = r.specJson();
    in->manifest = r.manifest();
    in->files = r.files();
    in->totalSteps = r.totalSteps();
    in->parameterCount = r.parameterCount();
    in->version = r.version();
    in->currentWeights = *r.weights(r.version());
    in->suspects = due.suspects;
    for (const qint64 step : r.archive().steps())
        if (step < r.version()) in->steps[step] = store_->workUnits(job, step, ledger::WorkUnitState::Done);
    if (!units.isEmpty()) {
        in->steps[r.version()] = units;
        waterfalls_[job].applyStarted(StepWaterfall::Clock::now());
        in->prepared = r.prepareStep(units);
    }
    rewinding_[job] = due.suspects;
    const JobRunner* which = &r;
    const data::ShardStore* shards = &library_->shards();
    auto run = [this, in, shards, job, which, units, who]() mutable {
        auto outcome = std::make_shared<std::optional<RewindOutcome>>();
        auto failure = std::make_shared<QString>();
        try {
            *outcome = rewindModel(*in, *shards);
        } catch (const raven::Error& e) {
            *failure = QString::fromStdString(e.message());
        } catch (const std::exception& e) {
            *failure = QString::fromUtf8(e.what());
        }
        in.reset();
        QMetaObject::invokeMethod(
            this,
            [this, job, which, units, outcome, failure, who] {
                onRewound(job, which, units, std::move(*outcome), *failure, who);
            },
            Qt::QueuedConnection);
    };
    pool_.start(std::move(run));
}

void Engine::onRewound(ledger::JobId job, const JobRunner* which, const QList<ledger::WorkUnit>& units,
                       std::optional<RewindOutcome> outcome, const QString& failure, const QString& who) {
    rewinding_.erase(job);
    JobRunner* r = runner(job);
    if (r != which) return;  // the job ended meanwhile
    if (outcome) {
        try {
            persistDue(job);  // done: what stays due is what was noted while it ran
        } catch (const raven::Error& error) {
            return failJob(job, QString::fromStdString(error.message()));
        }
    }
    if (!outcome) {
        // The model cannot be shown free of the caught results: the job stops rather than go on.
        failJob(job, QStringLiteral("rewinding the results of %1 failed: %2").arg(who, failure));
        retired_.clear();
        return;
    }
    const RewindSummary summary = outcome->summary;
    if (!units.isEmpty()) {
        // A step was due: its product (V + 1) goes the way every step's does; the metrics line of
        // that step carries the rewind's figures.
        rewindEvent(job, summary, who, r->version() + 1);
        return onStepComputed(job, which, units, std::move(outcome->product), QString());
    }
    try {
        if (outcome->product) {
            r->adoptRewound(std::move(*outcome->product));
            wire::MetricsUpdate update;
            update.set_step(static_cast<std::uint64_t>(r->version()));
            update.set_timestamp_ms(unixMs(utcNow()));
            auto& extra = *update.mutable_extra();
            extra["rewound_from_version"] = static_cast<double>(summary.from);
            extra["rewind_results_replaced"] = summary.replaced;
            extra["rewind_units_recomputed"] = summary.recomputed;
            extra["rewind_seconds"] = summary.seconds;
            evaluations_->publish(job, std::move(update), r->evaluate());
        }
        rewindEvent(job, summary, who, r->version());
        trimRewindArchive(*r);
    } catch (const raven::Error& error) {
        failJob(job, QString::fromStdString(error.message()));
    }
    advance(job);
    retired_.clear();
}

void Engine::rewindEvent(ledger::JobId job, const RewindSummary& summary, const QString& who, qint64 to) {
    QString text;
    if (summary.from < 0) {
        text = QStringLiteral("%1 result(s) of %2 accepted unchecked were replayed: all matched, nothing to rewind")
                   .arg(summary.checked)
                   .arg(who);
    } else {
        text = QStringLiteral(
                   "rewound from version %1: %2 result(s) of %3 replaced; versions %4 to %5 recomputed "
                   "(%6 unit(s) computed again by the coordinator, %7 s)")
                   .arg(summary.from)
                   .arg(summary.replaced)
                   .arg(who)
                   .arg(summary.from + 1)
                   .arg(to)
                   .arg(summary.recomputed)
                   .arg(summary.seconds, 0, 'f', 2);
    }
    qInfo("coordinator: job %lld: %s", static_cast<long long>(job), qPrintable(text));
    metrics_->event(job, wire::JOB_EVENT_KIND_WORK_REISSUED, text);
}

void Engine::trimRewindArchive(const JobRunner& r) {
    if (!r.rewindable()) return;
    const auto due = rewindsDue_.find(r.id());
    const std::optional<qint64> earliestDue =
        due == rewindsDue_.end() ? std::nullopt : std::optional<qint64>(due->second.earliestStep);
    r.archive().dropBefore(RewindArchive::keptFrom(r.version(), ledger_->earliestPendingVersion(r.id()), earliestDue));
}

}  // namespace raven::coordinator
