// Jobs: resuming them at start-up from their files, stepping them as their units complete, ending
// them. The crash-safety argument is in docs/coordinator.md; in short, the state file is written
// (atomically, fsynced) before the store hears of a new version, and a result file before the
// store counts its unit, so the store never claims more than the files hold.
#include <QFile>
#include <QJsonDocument>
#include <QMetaObject>

#include <algorithm>
#include <cmath>

#include "base/Error.h"
#include "coordinator/CrashPoints.h"
#include "coordinator/Engine.h"
#include "coordinator/GradientBuffers.h"
#include "coordinator/WireIds.h"
#include "ledger/Transaction.h"
#include "protocol/BoundedText.h"

namespace raven::coordinator {

std::unique_ptr<JobRunner> Engine::openRunner(const ledger::Job& job) {
    JobConfig config = JobConfig::fromJson(job.hyperparameters);
    std::optional<std::string> spec = library_->spec(config.modelSpecSha256);
    RAVEN_CHECK(spec.has_value(),
                "job " + idText(job.id) + ": its model spec " + config.modelSpecSha256.toStdString() + " is missing",
                "restore specs/ in the data directory from a backup");
    return std::make_unique<JobRunner>(job, std::move(config), std::move(*spec), library_->manifest(job.dataset),
                                       library_->shards(), JobFiles(options_.dataDir, job.id), job.modelVersion);
}

JobRunner* Engine::runner(ledger::JobId job) const {
    const auto it = runners_.find(job);
    return it == runners_.end() ? nullptr : it->second.get();
}

void Engine::resumeJobs() {
    resuming_ = true;
    const QDateTime now = utcNow();
    // Leases from before this start are dead: their workers' connections ended with the old process.
    // Handing them back re-issues their units; results accepted before the restart stay done.
    std::set<ledger::ContributorId> holders;
    for (const ledger::ActiveLease& lease : leases_->activeLeases()) holders.insert(lease.contributor);
    for (const ledger::ContributorId c : holders) leases_->handBackAll(c, now);

    std::vector<ledger::JobId> opened;
    for (const ledger::Job& job : store_->jobs()) {
        if (ledger::isTerminal(job.state)) continue;
        try {
            if (job.state == ledger::JobState::Queued) {
                RAVEN_CHECK(job.budget > 0, "job " + idText(job.id) + " was never funded", "");
                store_->setJobState(job.id, ledger::JobState::Running, now);
            }
            std::unique_ptr<JobRunner> r = openRunner(job);
            // The state file is the truth: a crash between writing it and telling the store leaves the
            // store one version behind.
            if (r->version() != job.modelVersion) {
                RAVEN_CHECK(r->version() == job.modelVersion + 1,
                            "job " + idText(job.id) + ": the store is at model version " +
                                std::to_string(job.modelVersion) + " but its state file at " +
                                std::to_string(r->version()),
                            "restore the job's directory from a backup, or cancel the job");
                store_->setJobModelVersion(job.id, r->version(), now);
            }
            QList<ledger::WorkUnitId> done;
            QList<ledger::WorkUnit> accepted = store_->workUnits(job.id, r->version(), ledger::WorkUnitState::Done);
            // A stale job may have accepted lanes of the next round while this one's step was applied,
            // another job results of the next step once its weights were out (JobRunner::leasesAhead()).
            accepted += store_->workUnits(job.id, r->version() + 1, ledger::WorkUnitState::Done);
            for (const ledger::WorkUnit& unit : accepted) {
                RAVEN_CHECK(r->hasResult(unit.id),
                            "job " + idText(job.id) + ": the result of accepted work unit " + idText(unit.id) +
                                " is missing from " + r->files().resultsDir().toStdString(),
                            "restore the job's directory from a backup, or cancel the job");
                done << unit.id;
            }
            r->removeResultsExcept(done);
            if (r->rewindable()) restoreDueRewind(*r);
            runners_[job.id] = std::move(r);
            stepStarted_[job.id] = now;
            waterfalls_[job.id].begin(StepWaterfall::Clock::now());
        } catch (const raven::Error& error) {
            failJob(job.id, QString::fromStdString(error.message()));
            continue;
        } catch (const std::exception& error) {
            // Whatever a job's files or spec make of this start (std::bad_alloc, ...), the
            // coordinator starts and serves every other job.
            failJob(
                job.id,
                QStringLiteral("the coordinator could not resume the job: %1").arg(QString::fromUtf8(error.what())));
            continue;
        }
        opened.push_back(job.id);
    }
    // Before any job moves on: a rewind that a quarantine cut short calls for is due from the start.
    settleQuarantines();
    for (const ledger::JobId job : opened)
        if (runner(job)) advance(job);
    resuming_ = false;
    retired_.clear();
}

std::int64_t Engine::shardsPerUnit(const JobRunner& r) const {
    if (r.config().shardsPerUnit > 0) return r.config().shardsPerUnit;
    // Stored before cuts were recorded, and cut then by the nominal figures alone: cut so again.
    return newJobShardsPerUnit(r.architecture(), r.plan(), r.config().gradientEncoding, options_.unitSizing);
}

std::int64_t Engine::newJobShardsPerUnit(const nn::Architecture& model, const training::StepPlan& plan,
                                         wire::GradientEncoding encoding, const UnitSizing& sizing) const {
    if (options_.shardsPerUnit > 0)
        return std::min(options_.shardsPerUnit, std::max<std::int64_t>(1, plan.shardsPerStep()));
    return sizing.shardsPerUnit(model, plan, gradientBytesPerValue(encoding));
}

UnitSizing Engine::sizingForNewJob() const {
    std::vector<double> roundTrips, uploadRates;
    for (const auto& [id, s] : sessions_) {
        if (s.principal != Principal::Contributor || s.lapsed) continue;
        if (const std::optional<qint64> ms = server_->roundTripMs(id)) roundTrips.push_back(static_cast<double>(*ms));
        if (const std::optional<double> mbit = server_->uploadMbitPerS(id)) uploadRates.push_back(*mbit);
    }
    return options_.unitSizing.forRoundTrips(std::move(roundTrips)).forUploadRates(std::move(uploadRates));
}

std::vector<Scheduler::JobSlot> Engine::leasableJobs() const {
    // Each lease round asks, so the state alone, not the job's whole row (its spec and hyperparameters
    // parsed from JSON each time). Read from the store, which is the truth: the ledger moves a job to
    // out_of_budget there, and a paused or ending job keeps its runner.
    std::vector<const JobRunner*> running;
    for (const auto& [id, r] : runners_)
        if (store_->jobState(id) == ledger::JobState::Running) running.push_back(r.get());
    std::stable_sort(running.begin(), running.end(), [](const JobRunner* a, const JobRunner* b) {
        const int pa = a->config().priority, pb = b->config().priority;
        return pa != pb ? pa > pb : a->id() < b->id();
    });
    std::vector<Scheduler::JobSlot> order;
    for (const JobRunner* r : running) order.push_back({r->id(), r->leasedStep()});
    return order;
}

void Engine::advance(ledger::JobId id) {
    JobRunner* r = runner(id);
    if (!r) return;
    try {
        if (r->stepping() || rewinding_.count(id)) return;  // onStepComputed() / onRewound() moves it on
        if (r->planDone()) return rewindDue(id) ? startRewind(*r, {}) : completeJob(*r);
        const qint64 version = r->version();
        // Read from the store once a step, then kept current by the acceptances (StepUnits.h).
        const QList<ledger::WorkUnit> units =
            stepUnits_.of(id, version, [&] { return store_->workUnits(id, version); });
        if (units.isEmpty()) {
            // All the step's units in one transaction, leasable at once (serveParkedLeases).
            store_->addWorkUnits(id, version, r->unitsOfCurrentStep(shardsPerUnit(*r)));
            desk_->workMayHaveAppeared();
            stepStarted_[id] = utcNow();
            if (!waterfalls_[id].begun()) waterfalls_[id].begin(StepWaterfall::Clock::now());
            return;
        }
        if (ahead_.computing(id)) return;  // advance() again once its weights are computed
        // A step taken ahead has the sum's last addition in it: the running sum is not finished here.
        if (!ahead_.ready(id, r, version)) r->sumAccepted(units);  // each accepted gradient freed once summed
        if (stepUnits_.undone(id) > 0) return;
        // The step is applied from the store's own list (one read a step), not the kept one.
        stepUnits_.forget(id);
        const QList<ledger::WorkUnit> stored =
            stepUnits_.of(id, version, [&] { return store_->workUnits(id, version); });
        if (stepUnits_.undone(id) > 0) return;
        // A stale job's next round starts from this version's weights, not from the step's result:
        // its lanes are leasable while the step is computed (LocalStepsConfig.h). Added once; after
        // a restart they may be there already.
        if (r->staleness() > 0 && version + 1 < r->totalSteps() && store_->workUnits(id, version + 1).isEmpty()) {
            store_->addWorkUnits(id, version + 1, r->unitsOfStep(version + 1, shardsPerUnit(*r)));
            desk_->workMayHaveAppeared();
        }
        if (holdStepStarts_) {
            stepStartHeld_ = true;
            return;
        }
        startStep(*r, stored);
    } catch (const raven::Error& error) {
        failJob(id, QString::fromStdString(error.message()));
    } catch (const std::exception& error) {
        failJob(id, QString::fromUtf8(error.what()));
    }
}

void Engine::startStep(JobRunner& r, const QList<ledger::WorkUnit>& units) {
    if (rewindDue(r.id())) return startRewind(r, units);  // the rewind applies this step too
    if (std::optional<StepsAhead::Step> ahead = ahead_.take(r.id(), &r, r.version()))
        return adoptStepAhead(r, units, std::move(*ahead));
    waterfalls_[r.id()].applyStarted(StepWaterfall::Clock::now());
    auto work = std::make_shared<StepWork>(r.prepareStep(units));
    const ledger::JobId job = r.id();
    const JobRunner* which = &r;
    if (resuming_) {
        // At start-up nobody waits on the event loop yet: the step due is applied before serving.
        std::optional<StepProduct> product;
        QString failure;
        try {
            product = JobRunner::computeStep(*work);
        } catch (const raven::Error& e) {
            failure = QString::fromStdString(e.message());
        }
        return onStepComputed(job, which, units, std::move(product), failure);
    }
    pool_.start([this, work, job, which, units]() mutable {
        auto product = std::make_shared<std::optional<StepProduct>>();
        auto failure = std::make_shared<QString>();
        const bool ahead = work->weightsAhead;
        try {
            *product = ahead ? JobRunner::computeWeights(*work) : JobRunner::computeStep(*work);
        } catch (const raven::Error& e) {
            *failure = QString::fromStdString(e.message());
        } catch (const std::exception& e) {
            *failure = QString::fromUtf8(e.what());
        }
        if (ahead && product->has_value()) {
            work->gradientSum = {};  // summed into the weights; the state half needs the model alone
            QMetaObject::invokeMethod(
                this,
                [this, work, job, which, units, product] {
                    grantAheadThenWriteState(job, which, units, work, product);
                },
                Qt::QueuedConnection);
            return;
        }
        work.reset();  // the gradients go now, not with the queued call
        QMetaObject::invokeMethod(
            this,
            [this, job, which, units, product, failure] {
                onStepComputed(job, which, units, std::move(*product), *failure);
            },
            Qt::QueuedConnection);
    });
}

void Engine::grantAheadThenWriteState(ledger::JobId job, const JobRunner* which, const QList<ledger::WorkUnit>& units,
                                      std::shared_ptr<StepWork> work,
                                      std::shared_ptr<std::optional<StepProduct>> product) {
    onStepWeights(job, which, (*product)->weights);
    // Queued behind the grants' own flush (QSslSocket encrypts and writes in a queued call): the state
    // half starts once their bytes are on their way.
    QMetaObject::invokeMethod(
        this, [this, work, job, which, units, product] { writeStepState(job, which, units, work, product); },
        Qt::QueuedConnection);
}

void Engine::takeStepAhead(ledger::JobId job, const StepsAhead::Origin& origin, const JobRunner::LastResult& result) {
    JobRunner* r = runner(job);
    if (!r || resuming_ || ahead_.has(job) || rewinding_.count(job) || r->stepping()) return;
    const qint64 version = r->version();
    const QList<ledger::WorkUnit>& units = stepUnits_.of(job, version, [&] { return store_->workUnits(job, version); });
    std::optional<StepWork> taken = r->takeStepAhead(units, result);
    if (!taken) return;
    auto work = std::make_shared<StepWork>(std::move(*taken));
    const std::uint64_t serial = ahead_.begin(job, r, origin, work);
    aheadPool_.start([this, work, job, serial] {
        auto product = std::make_shared<std::optional<StepProduct>>();
        try {
            JobRunner::copyStateAhead(*work);
            *product = JobRunner::computeWeights(*work);
        } catch (const std::exception& e) {
            // The usual path applies the step and fails the job with the reason, if it fails again.
            qWarning("coordinator: computing step %lld of job %lld ahead failed: %s",
                     static_cast<long long>(work->version), static_cast<long long>(job), e.what());
        }
        GradientBuffers::shared().giveBack(std::move(work->gradientSum));
        QMetaObject::invokeMethod(
            this,
            [this, job, serial, product] {
                ahead_.computed(job, serial, std::move(*product));
                advance(job);  // its result may be accepted already
                retired_.clear();
            },
            Qt::QueuedConnection);
    });
}

void Engine::adoptStepAhead(JobRunner& r, const QList<ledger::WorkUnit>& units, StepsAhead::Step step) {
    try {
        r.adoptStepAhead(*step.work, units, step.origin.unit);
    } catch (const raven::Error& e) {
        // Not the step the store has: applied as usual (the running sum still lacks the last result).
        qWarning("coordinator: %s", e.message().c_str());
        return startStep(r, units);
    }
    waterfalls_[r.id()].applyStarted(StepWaterfall::Clock::now());
    grantAheadThenWriteState(r.id(), &r, units, std::move(step.work),
                             std::make_shared<std::optional<StepProduct>>(std::move(step.product)));
}

void Engine::writeStepState(ledger::JobId job, const JobRunner* which, const QList<ledger::WorkUnit>& units,
                            std::shared_ptr<StepWork> work, std::shared_ptr<std::optional<StepProduct>> product) {
    pool_.start([this, work = std::move(work), job, which, units, product = std::move(product)]() mutable {
        QString failure;
        try {
            JobRunner::writeStepState(*work);
        } catch (const raven::Error& e) {
            failure = QString::fromStdString(e.message());
        } catch (const std::exception& e) {
            failure = QString::fromUtf8(e.what());
        }
        work.reset();
        if (!failure.isEmpty()) product->reset();
        QMetaObject::invokeMethod(
            this,
            [this, job, which, units, product, failure] {
                onStepComputed(job, which, units, std::move(*product), failure);
            },
            Qt::QueuedConnection);
    });
}

void Engine::onStepWeights(ledger::JobId job, const JobRunner* which, const QByteArray& weights) {
    JobRunner* r = runner(job);
    if (r != which || !r->stepping() || rewinding_.count(job)) return;  // ended, or replaced, meanwhile
    try {
        const qint64 next = r->version() + 1;
        // Made once: a restart that finds them (a crash while V's state was written) keeps them, one
        // that does not makes them with the version. So they need no fsync of their own: the first
        // result paid on them syncs them first (ledger/Transaction.h).
        ledger::Transaction nextUnits(store_->connection(), ledger::Transaction::Sync::WithNextSynced);
        if (store_->workUnits(job, next).isEmpty())
            store_->addWorkUnits(job, next, r->unitsOfStep(next, shardsPerUnit(*r)));
        nextUnits.commit();
        r->publishAhead(weights);
    } catch (const std::exception& e) {
        // Nothing lost: the units are made with the version, once the state file is written.
        qWarning("coordinator: leasing step %lld of job %lld ahead failed: %s",
                 static_cast<long long>(r->version() + 1), static_cast<long long>(job), e.what());
        return;
    }
    desk_->workMayHaveAppeared();
    serveParkedLeases();
    retired_.clear();
}

void Engine::onStepComputed(ledger::JobId job, const JobRunner* which, const QList<ledger::WorkUnit>& units,
                            std::optional<StepProduct> product, const QString& failure) {
    JobRunner* found = runner(job);
    if (found != which) return;  // the job ended meanwhile; its state file is one step ahead, as after a crash
    JobRunner& r = *found;
    try {
        if (!product) {
            failJob(job, failure);
            if (!resuming_) retired_.clear();
            return;
        }
        const QDateTime started = stepStarted_.count(job) ? stepStarted_[job] : utcNow();
        StepWaterfall& waterfall = waterfalls_[job];
        const std::optional<RewindSummary> rewound = product->rewind;
        const StepReport report = r.finishStep(std::move(*product));
        crashPoint(CrashPoint::StateWritten);
        const QDateTime now = utcNow();
        // The new version and the next step's units in one transaction (one fsync of the store on
        // the way from the step to the next grants, not two). A crash before its commit leaves the
        // store at the old version, which the state file corrects at the next start.
        ledger::Transaction versionAndNextUnits(store_->connection());
        store_->setJobModelVersion(job, report.step, now);
        const StepWaterfall::Clock::time_point applied = StepWaterfall::Clock::now();
        scheduler_->forgetJob(job);
        judge_->stepApplied(units);
        stepStarted_[job] = now;
        // This step's waterfall closes, and the next one's opens, before the next step's units are
        // served: the weights that go out with those grants belong to the next step.
        wire::MetricsUpdate update;
        waterfall.report(applied, &update);
        waterfall.begin(applied);
        holdStepStarts_ = true;
        stepStartHeld_ = false;
        if (!r.planDone()) advance(job);
        holdStepStarts_ = false;
        const bool nextStepDue = stepStartHeld_;
        versionAndNextUnits.commit();
        crashPoint(CrashPoint::VersionStored);
        // A verifiable job keeps the step's results for a rewind (RewindArchive.h), as long as one
        // of them may still be found wrong.
        if (r.rewindable() && !(rewound && rewound->from >= 0)) {  // a rewind archived the step itself
            QList<ledger::WorkUnitId> summed;
            for (const ledger::WorkUnit& unit : units) summed << unit.id;
            r.archive().keepResults(report.step - 1, summed);
            trimRewindArchive(r);
        }
        // Results of the step just applied go; those of all the next step's units stay, not only the
        // accepted ones (a stale job's lanes, or units leased ahead): a unit's durable copy is written
        // (GroupCommit) before the store counts it, and one written but not yet counted now would be
        // counted without its file, which a restart finds missing (the job fails).
        QList<ledger::WorkUnitId> nextRound;
        for (const ledger::WorkUnit& unit : store_->workUnits(job, report.step)) nextRound << unit.id;
        // Off the event loop while serving; at start-up (steps applied synchronously) at once, so that
        // a started coordinator has no results left of steps it applied.
        if (resuming_) {
            r.removeResultsExcept(nextRound);
        } else if (const QStringList doomed = r.releaseResultsExcept(nextRound); !doomed.isEmpty()) {
            sweeper_.start([this, doomed] {
                for (const QString& path : doomed) {
                    if (path.endsWith(QLatin1String(".result")))
                        spares_.recycle(path);
                    else
                        QFile::remove(path);
                }
            });
        }
        // The next step's units are granted first, so that parked workers start on them while this
        // step's metrics, evaluation and checkpoint are written.
        if (!r.planDone()) serveParkedLeases();

        update.set_step(static_cast<std::uint64_t>(report.step));
        update.set_timestamp_ms(unixMs(now));
        update.set_train_loss(report.trainLoss);
        const double seconds = std::max(0.001, static_cast<double>(started.msecsTo(now)) / 1000.0);
        update.set_samples_per_second(static_cast<double>(report.samples) / seconds);
        update.set_active_workers(static_cast<std::uint32_t>(report.contributors.size()));
        (*update.mutable_extra())["train_accuracy"] = report.accuracy;
        (*update.mutable_extra())["learning_rate"] = report.learningRate;
        if (rewound && rewound->from >= 0) {
            auto& extra = *update.mutable_extra();
            extra["rewound_from_version"] = static_cast<double>(rewound->from);
            extra["rewind_results_replaced"] = rewound->replaced;
            extra["rewind_units_recomputed"] = rewound->recomputed;
            extra["rewind_seconds"] = rewound->seconds;
        }
        if (report.robust) {
            auto& extra = *update.mutable_extra();
            extra["robust_median_distance"] = report.robust->medianDistance;
            extra["robust_radius"] = report.robust->radius;
            extra["robust_clipped_units"] = report.robust->clippedUnits;
            extra["robust_outlier_units"] = static_cast<double>(report.robust->outlierUnits.size());
            for (qsizetype i = 0; i < report.robust->outlierUnits.size(); ++i) {
                // The requester does not pay for a result the step would not use.
                const bool withheld =
                    ledger_->revokeCredit(report.robust->outlierUnits[i], ledger::RevokeReason::Outlier, now);
                metrics_->event(
                    job, wire::JOB_EVENT_KIND_RESULT_OUTLIER,
                    QStringLiteral("work unit %1 from contributor %2 lay far from the step's other "
                                   "results; its pull on the model was dropped%3")
                        .arg(report.robust->outlierUnits[i])
                        .arg(report.robust->outlierContributors[i])
                        .arg(withheld ? QStringLiteral(" and its credit withheld")
                                      : QStringLiteral("; its credit was confirmed already and stays paid")));
            }
            // Outliers again and again: not bad luck but a poisoner (OutlierStrikes.h). No more work for
            // it, and its credits still pending are withheld, as for a contributor caught on a replay.
            for (const auto& [contributor, outlier] : report.robust->judged) {
                if (!outlierStrikes_.judged(contributor, outlier) || verifier_->quarantined(contributor)) continue;
                const OutlierStrikes::Settings& rule = outlierStrikes_.settings();
                const QString why = QStringLiteral("%1 of its last %2 results lay far from every step's others")
                                        .arg(rule.strikes)
                                        .arg(rule.window);
                verifier_->quarantine(contributor, why);
                const ledger::CreditSweep swept = quarantine(contributor, why);
                metrics_->event(job, wire::JOB_EVENT_KIND_WORK_REISSUED,
                                QStringLiteral("%1 quarantined: %2; %3 pending credit(s) of %4 micro-credits withheld")
                                    .arg(contributorLabel(contributor), why)
                                    .arg(swept.credits)
                                    .arg(swept.amount));
            }
        }
        const std::int64_t evalEvery = r.config().evalEverySteps;
        if (r.planDone()) {
            // The last step's evaluation is part of the job's end: computed here, after any still running.
            evaluations_->finish(job);
            evaluations_->publish(job, std::move(update), r.evaluate());
        } else if (evalEvery > 0 && report.step % evalEvery == 0 && r.testEvaluation()->hasTestSplit()) {
            // On a worker thread, with a model of its own: the event loop goes on ingesting the next
            // step's results. The test split is read here once (the shard store is this thread's).
            r.testEvaluation()->loadTestSamples();
            evaluations_->evaluate(job, r.testEvaluation(), *r.weights(report.step), std::move(update));
        } else {
            evaluations_->publish(job, std::move(update), std::nullopt);
        }
        emit owner_.jobStepped(job, report.step, report.trainLoss);

        if (r.planDone() || report.step % r.config().checkpointEverySteps == 0) {
            r.writeCheckpoint();
            metrics_->event(job, wire::JOB_EVENT_KIND_CHECKPOINT_WRITTEN,
                            QStringLiteral("checkpoint of model version %1 written").arg(report.step));
        }
        if (r.planDone() || nextStepDue) advance(job);  // ends it, or starts the next step, after its metrics
    } catch (const raven::Error& error) {
        failJob(job, QString::fromStdString(error.message()));
    } catch (const std::exception& error) {
        failJob(job, QString::fromUtf8(error.what()));
    }
    if (!resuming_) retired_.clear();  // else resumeJobs() clears it, as a handler's caller does
}

void Engine::publishStep(ledger::JobId job, wire::MetricsUpdate update, const std::optional<nn::EvalResult>& eval) {
    if (eval) {
        update.set_eval_loss(eval->loss);
        update.set_eval_accuracy(eval->accuracy);
    }
    const std::uint64_t step = update.step();
    metrics_->publish(job, std::move(update));
    if (eval) emit owner_.jobEvaluated(job, static_cast<qint64>(step), eval->loss, eval->accuracy);
}

void Engine::completeJob(JobRunner& r) {
    // After a crash right at the end the final checkpoint may be missing: write it again.
    if (!r.files().checkpointVersions().contains(r.version())) r.writeCheckpoint();
    endJob(r.id(), ledger::JobState::Done, QStringLiteral("done"));
}

void Engine::endJob(ledger::JobId job, ledger::JobState finalState, const QString& signalName) {
    ledger_->endJob(job, finalState, utcNow());
    // Its credits are final now (confirmed by the window at the job's end): nothing can be rewound.
    RewindArchive(JobFiles(options_.dataDir, job)).remove();
    announceState(job, signalName == QLatin1String("failed") ? JobFiles(options_.dataDir, job).failure() : signalName);
    retire(job);
    emit owner_.jobEnded(job, signalName);
}

void Engine::failJob(ledger::JobId job, const QString& reason) {
    const QString why = protocol::boundText(reason);  // may quote a requester's spec
    qWarning("coordinator: job %lld failed: %s", static_cast<long long>(job), qPrintable(why));
    try {
        JobFiles(options_.dataDir, job).recordFailure(why);
        const std::optional<ledger::Job> row = store_->job(job);
        if (row && !ledger::isTerminal(row->state)) {
            endJob(job, ledger::JobState::Cancelled, QStringLiteral("failed"));
        } else {
            retire(job);
        }
    } catch (const std::exception& e) {
        qWarning("coordinator: could not stop job %lld: %s", static_cast<long long>(job), e.what());
        retire(job);
    }
}

void Engine::retire(ledger::JobId job) {
    auto it = runners_.find(job);
    if (it != runners_.end()) {
        // After the recycling queued before it (one sweeper thread, in order).
        sweeper_.start([this, results = it->second->files().resultsDir()] { spares_.discard(results); });
        prefetchHints_.forgetJob(it->first);
        retired_.push_back(std::move(it->second));  // a caller up the stack may still hold it
        runners_.erase(it);
    }
    evaluations_->finish(job);  // its held figures go out before it is forgotten
    stepStarted_.erase(job);
    waterfalls_.erase(job);
    ahead_.drop(job);
    jobWorkers_.erase(job);
    judge_->forgetJob(job);
    rewindsDue_.erase(job);
    endVerification(job);
    scheduler_->forgetJob(job);
}

void Engine::announceState(ledger::JobId job, const QString& message) {
    const std::optional<ledger::Job> row = store_->job(job);
    if (!row) return;
    const bool failed =
        row->state == ledger::JobState::Cancelled && !JobFiles(options_.dataDir, job).failure().isEmpty();
    metrics_->event(job, wire::JOB_EVENT_KIND_STATE_CHANGED, message, wireState(row->state, failed));
}

wire::JobInfo Engine::jobInfo(const ledger::Job& job) const {
    wire::JobInfo info;
    const QString failure = JobFiles(options_.dataDir, job.id).failure();
    info.set_job_id(idText(job.id));
    info.set_name(job.name.toStdString());
    info.set_state(wireState(job.state, job.state == ledger::JobState::Cancelled && !failure.isEmpty()));
    info.set_step(static_cast<std::uint64_t>(job.modelVersion));
    info.set_model_version(static_cast<std::uint64_t>(job.modelVersion));
    qint64 total = 0;
    if (const JobRunner* r = runner(job.id)) {
        total = r->totalSteps();
    } else if (auto it = totalSteps_.find(job.id); it != totalSteps_.end()) {
        total = it->second;
    } else {
        try {
            total = training::StepPlan(library_->manifest(job.dataset), JobConfig::fromJson(job.hyperparameters).plan)
                        .totalSteps();
        } catch (const raven::Error&) {
            total = 0;  // the dataset is gone: the job cannot say
        }
        totalSteps_[job.id] = total;
    }
    info.set_total_steps(static_cast<std::uint64_t>(total));
    info.set_budget_micro_credits(job.budget);
    const ledger::JobSpend spend = ledger_->jobSpend(job.id);
    info.set_spent_micro_credits(spend.paid);
    info.set_pending_micro_credits(spend.pending);
    info.set_revoked_micro_credits(spend.revoked);
    info.set_message(protocol::boundText(failure).toStdString());
    describeSettings(job, info);
    return info;
}

}  // namespace raven::coordinator
