// Contributors: leasing work, fetching what it needs, and results: assembled, checked, kept on disk,
// then accepted exactly once through the LeaseBook (which pays).
#include <cmath>

#include "coordinator/CrashPoints.h"
#include "coordinator/Engine.h"
#include "coordinator/RequestError.h"
#include "coordinator/WeightsPush.h"
#include "coordinator/WireIds.h"
#include "protocol/BoundedText.h"
#include "protocol/Framing.h"

namespace raven::coordinator {

namespace {

// How long a lease request with nothing to lease waits for work before it is answered empty.
constexpr int kParkMs = 1000;

// Results one connection may have half-sent at once (each holds up to a model's gradient).
constexpr std::size_t kResultsInFlight = 16;
// Answers kept for the remaining parts of results answered early; beyond it the oldest is forgotten
// (its sender then gets "arrived without its beginning" for a late part, which it survives).
constexpr std::size_t kDroppedResultsKept = 64;
// Units a worker may hold before any of its results came back.
constexpr int kStartingLeases = 2;
// Distinct contributors whose results for one unit were all rejected before the job is failed.
constexpr int kRejectionsBeforeJobFails = 8;

bool isLastPart(const wire::SubmitResult& part) {
    const wire::ContentChunk& c = part.gradient().content();
    return c.offset() + c.data().size() >= c.total_bytes();
}

}  // namespace

wire::WorkUnit Engine::wireUnit(const ledger::WorkUnit& unit, const JobRunner& runner) const {
    wire::WorkUnit w;
    w.set_id(idText(unit.id));
    w.set_job_id(idText(unit.job));
    w.set_model_version(static_cast<std::uint64_t>(unit.modelVersion));
    for (const QString& hash : unit.shardHashes) w.add_shard_hashes(hash.toStdString());
    w.set_deadline_ms(unixMs(unit.leaseDeadline));
    w.set_model_spec_sha256(runner.config().modelSpecSha256.toStdString());
    w.set_local_steps(1);
    w.set_kernel_mode(wire::KERNEL_MODE_FAST);
    w.set_gradient_encoding(runner.config().gradientEncoding);
    w.set_gradient_zstd(runner.config().gradientZstd);
    w.set_model_spec_json(runner.specJson());
    w.set_dataset_id(runner.manifest().id.toStdString());
    return w;
}

void Engine::onLeaseRequest(Session& s, const wire::Envelope& e) {
    requireContributor(s, "LeaseRequest");
    const int maxUnits = static_cast<int>(std::clamp<std::uint32_t>(e.lease_request().max_units(), 1, 256));
    s.leaseAsk = e.lease_request();
    wire::Envelope reply = grantLeases(s, maxUnits);
    if (reply.lease_grant().units_size() == 0) {
        parked_.push_back({s.id, e.request_id(), maxUnits, utcNow().addMSecs(kParkMs)});
        return;
    }
    answer(s.id, e.request_id(), std::move(reply));
}

wire::Envelope Engine::grantLeases(Session& s, int maxUnits) {
    const QDateTime now = utcNow();
    const QDateTime deadline = now.addMSecs(options_.unitDeadlineMs);
    // A unit's latest lease was granted unitDeadlineMs before its deadline.
    const QDateTime speculateIfDeadlineBefore = deadline.addMSecs(-speculateAfterMs());
    // Holdings follow what the worker has delivered, not the speed or limit it declared: a few units
    // to start with, then up to twice the results accepted from it within the last unit deadline.
    // A worker that declares a huge speed and no limit cannot hoard a step's units.
    auto& delivered = recentlyAccepted_[s.principalId];
    while (!delivered.empty() && delivered.front().msecsTo(now) > options_.unitDeadlineMs) delivered.pop_front();
    const int observedCap = kStartingLeases + 2 * static_cast<int>(delivered.size());
    const int holdCap = s.maxConcurrentLeases > 0 ? std::min(s.maxConcurrentLeases, observedCap) : observedCap;
    const Scheduler::Grant grant = scheduler_->lease({s.principalId, s.gflops, holdCap}, maxUnits, leasableJobs(),
                                                     totalConnectedGflops(), deadline, now, speculateIfDeadlineBefore);
    wire::Envelope reply;
    wire::LeaseGrant& out = *reply.mutable_lease_grant();
    for (const ledger::WorkUnit& unit : grant.units) {
        const JobRunner* r = runner(unit.job);
        if (!r) continue;  // cannot happen: only running jobs with runners are leased
        *out.add_units() = wireUnit(unit, *r);
        if (jobWorkers_[unit.job].insert(s.principalId).second)
            metrics_->event(unit.job, wire::JOB_EVENT_KIND_WORKER_JOINED,
                            QStringLiteral("%1 joined").arg(contributorLabel(s.principalId)));
    }
    // The weights the worker lacks travel with the grant (WeightsPush.h).
    const auto weightsOf = [this](ledger::JobId job, qint64 version) {
        const JobRunner* r = runner(job);
        return r ? r->weights(version) : nullptr;
    };
    for (const PushedWeights& p : pushWeights(s.leaseAsk, out, weightsOf, transfers_))
        if (auto w = waterfalls_.find(p.job); w != waterfalls_.end() && p.version == runner(p.job)->version())
            w->second.weightsSent(s.principalId, p.bytes, StepWaterfall::Clock::now());
    // Parked requests are answered when work appears; an empty grant is the end of a parking.
    if (out.units_size() == 0) out.set_retry_after_ms(20);
    for (const ledger::JobId job : grant.outOfBudget) {
        metrics_->event(job, wire::JOB_EVENT_KIND_BUDGET_LOW,
                        QStringLiteral("the job's escrow cannot pay for more work units; leasing stopped"));
        announceState(job, QStringLiteral("out of budget"));
    }
    return reply;
}

void Engine::serveParkedLeases() {
    if (parked_.empty()) return;
    const QDateTime now = utcNow();
    std::vector<ParkedLease> waiting;
    waiting.swap(parked_);
    for (const ParkedLease& p : waiting) {
        auto it = sessions_.find(p.connection);
        if (it == sessions_.end() || it->second.principal != Principal::Contributor) continue;  // gone
        try {
            wire::Envelope reply = grantLeases(it->second, p.maxUnits);
            if (reply.lease_grant().units_size() == 0 && now < p.until) {
                parked_.push_back(p);
                continue;
            }
            answer(p.connection, p.requestId, std::move(reply));
        } catch (const std::exception& e) {
            qWarning("coordinator: a parked lease request failed: %s", e.what());
            server_->send(p.connection, protocol::makeError(wire::ERROR_CODE_INTERNAL, QString::fromUtf8(e.what()),
                                                            QStringLiteral("ask again"), p.requestId));
        }
    }
}

qint64 Engine::speculateAfterMs() const { return std::max<qint64>(1000, static_cast<qint64>(4.0 * turnaroundMs_)); }

void Engine::onHandBack(Session& s, const wire::Envelope& e) {
    requireContributor(s, "LeaseHandBack");
    const wire::LeaseHandBack& h = e.lease_hand_back();
    QMap<ledger::JobId, int> reissued;
    std::vector<ledger::WorkUnit> failed;
    for (const std::string& text : h.work_unit_ids()) {
        const ledger::WorkUnitId id = parseId(text, "work_unit_id");
        const std::optional<ledger::WorkUnit> unit = store_->workUnit(id);
        if (!unit || !leases_->handBack(id, s.principalId, utcNow())) continue;
        ++reissued[unit->job];
        if (h.could_not_compute()) failed.push_back(*unit);
    }
    // Counted only for units this contributor really held, so that no one can fail a job by
    // handing back units it was never given.
    for (const ledger::WorkUnit& unit : failed)
        noteUnitFailure(unit, s.principalId, QStringLiteral("impossible to compute for"),
                        QString::fromStdString(h.reason()));
    for (auto it = reissued.begin(); it != reissued.end(); ++it)
        metrics_->event(it.key(), wire::JOB_EVENT_KIND_WORK_REISSUED,
                        QStringLiteral("%1 work unit(s) handed back by %2 and re-issued")
                            .arg(it.value())
                            .arg(contributorLabel(s.principalId)));
    wire::Envelope reply;
    reply.mutable_ack();
    answer(s.id, e.request_id(), std::move(reply));
}

QList<ledger::WorkUnit> Engine::leasedUnits(const Session& s) const {
    QList<ledger::WorkUnit> units;
    for (const ledger::ActiveLease& lease : leases_->activeLeases(s.principalId))
        if (const std::optional<ledger::WorkUnit> unit = store_->workUnit(lease.workUnit)) units << *unit;
    return units;
}

void Engine::onFetchShard(Session& s, const wire::Envelope& e) {
    requireContributor(s, "FetchShard");
    const wire::FetchShard& f = e.fetch_shard();
    if (!data::ShardStore::isShardName(QString::fromStdString(f.shard_sha256().substr(0, 80))))
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
               QStringLiteral("\"%1\" is not a shard name").arg(protocol::quotePeer(f.shard_sha256(), 80)),
               QStringLiteral("a shard is named by 64 lowercase hex digits, as work units list them"));
    const QString hash = QString::fromStdString(f.shard_sha256());
    // A requester's data goes only to the workers computing on it: a shard is served to a
    // contributor whose current lease lists it, never to whoever knows its hash.
    bool leased = false;
    ledger::JobId job = 0;
    for (const ledger::WorkUnit& unit : leasedUnits(s))
        if (unit.shardHashes.contains(hash)) {
            leased = true;
            job = unit.job;
        }
    if (!leased || !library_->shards().contains(hash))
        refuse(wire::ERROR_CODE_NOT_FOUND,
               QStringLiteral("no shard %1 for you: none of your leases lists it").arg(hash),
               QStringLiteral("fetch the shards your work units list, while you hold their leases"));
    const QByteArray bytes = library_->shards().read(hash);
    const auto chunks =
        asInvalidArgument([&] { return transfers_.chunks("shard:" + hash, bytes, f.accept_zstd(), f.offset()); });
    std::int64_t sent = 0;
    for (const wire::ContentChunk& chunk : chunks) {
        sent += static_cast<std::int64_t>(chunk.data().size());
        wire::Envelope reply;
        *reply.mutable_shard_chunk()->mutable_content() = chunk;
        answer(s.id, e.request_id(), std::move(reply));
    }
    if (auto w = waterfalls_.find(job); w != waterfalls_.end()) w->second.shardSent(sent);
}

void Engine::onFetchManifest(Session& s, const wire::Envelope& e) {
    requireContributor(s, "FetchManifest");
    const wire::FetchManifest& f = e.fetch_manifest();
    const QString id = QString::fromStdString(f.dataset_id().substr(0, 80));
    bool leased = false;
    for (const ledger::WorkUnit& unit : leasedUnits(s))
        if (const JobRunner* r = runner(unit.job)) leased = leased || r->manifest().id == id;
    if (!leased || !library_->hasDataset(id))
        refuse(wire::ERROR_CODE_NOT_FOUND,
               QStringLiteral("no dataset \"%1\" for you: none of your leases uses it")
                   .arg(protocol::quotePeer(f.dataset_id(), 80)),
               QStringLiteral("fetch the dataset_id your work unit names, while you hold its lease"));
    const QByteArray bytes = library_->manifestBytes(id);
    for (const wire::ContentChunk& chunk : transfers_.chunks("manifest:" + id, bytes, f.accept_zstd(), 0)) {
        wire::Envelope reply;
        reply.mutable_manifest_chunk()->set_dataset_id(id.toStdString());
        *reply.mutable_manifest_chunk()->mutable_content() = chunk;
        answer(s.id, e.request_id(), std::move(reply));
    }
}

void Engine::onFetchWeights(Session& s, const wire::Envelope& e) {
    requireContributor(s, "FetchWeights");
    const wire::FetchWeights& f = e.fetch_weights();
    const ledger::JobId job = parseId(f.job_id(), "job_id");
    const JobRunner* r = runner(job);
    if (!r)
        refuse(wire::ERROR_CODE_NOT_FOUND, QStringLiteral("job %1 is not running").arg(job),
               QStringLiteral("drop its work units and lease again"));
    const auto version = static_cast<qint64>(std::min<std::uint64_t>(f.model_version(), 1ull << 62));
    bool leased = false;
    for (const ledger::WorkUnit& unit : leasedUnits(s))
        leased = leased || (unit.job == job && unit.modelVersion == version);
    if (!leased)
        refuse(wire::ERROR_CODE_NOT_FOUND,
               QStringLiteral("no weights of job %1 version %2 for you: none of your leases is for them")
                   .arg(job)
                   .arg(version),
               QStringLiteral("the work unit is stale or was never yours: drop it and lease again"));
    const QByteArray* weights = r->weights(version);
    if (!weights)
        refuse(wire::ERROR_CODE_NOT_FOUND,
               QStringLiteral("job %1 has no weights of version %2 any more (it is at version %3)")
                   .arg(job)
                   .arg(version)
                   .arg(r->version()),
               QStringLiteral("the work unit is stale: drop it and lease again"));
    const auto chunks = asInvalidArgument([&] {
        return transfers_.chunks(QStringLiteral("weights:%1:%2").arg(job).arg(version), *weights, f.accept_zstd(),
                                 f.offset());
    });
    std::int64_t sent = 0;
    for (const wire::ContentChunk& chunk : chunks) {
        sent += static_cast<std::int64_t>(chunk.data().size());
        wire::Envelope reply;
        wire::WeightsChunk& w = *reply.mutable_weights_chunk();
        w.set_job_id(idText(job));
        w.set_model_version(static_cast<std::uint64_t>(version));
        *w.mutable_content() = chunk;
        answer(s.id, e.request_id(), std::move(reply));
    }
    if (version == r->version())
        if (auto w = waterfalls_.find(job); w != waterfalls_.end())
            w->second.weightsSent(s.principalId, sent, StepWaterfall::Clock::now());
}

void Engine::noteUnitFailure(const ledger::WorkUnit& unit, ledger::ContributorId contributor, const QString& how,
                             const QString& reason) {
    std::set<ledger::ContributorId>& failedBy = unitRejections_[unit.id];
    failedBy.insert(contributor);
    if (static_cast<int>(failedBy.size()) < kRejectionsBeforeJobFails) return;
    unitRejections_.erase(unit.id);
    failJob(unit.job, QStringLiteral("work unit %1 was %2 %3 different contributors (last: %4); the job cannot proceed")
                          .arg(unit.id)
                          .arg(how)
                          .arg(kRejectionsBeforeJobFails)
                          .arg(protocol::boundText(reason)));
}

wire::ResultAck Engine::rejectResult(Session& s, ledger::WorkUnitId unitId, const QString& reason, bool countAgainst) {
    if (countAgainst) {
        if (const std::optional<ledger::WorkUnit> unit = store_->workUnit(unitId)) {
            leases_->rejectResult(unitId, s.principalId, reason, utcNow());
            // When many different contributors all fail the same unit, the unit (the job) is at fault,
            // not them: the job fails with the reason instead of re-issuing the unit forever and
            // keeping workers from every other job.
            noteUnitFailure(*unit, s.principalId, QStringLiteral("rejected for"), reason);
        }
    }
    wire::ResultAck ack;
    ack.set_work_unit_id(idText(unitId));
    ack.set_status(wire::RESULT_STATUS_REJECTED);
    ack.set_reason(protocol::boundText(reason).toStdString());
    return ack;
}

void Engine::onSubmitResult(Session& s, const wire::Envelope& e) {
    requireContributor(s, "SubmitResult");
    const wire::SubmitResult& part = e.submit_result();
    const ledger::WorkUnitId unitId = parseId(part.work_unit_id(), "work_unit_id");
    const std::string key = idText(unitId);  // canonical: never the peer's spelling of the id
    const auto reply = [&](wire::ResultAck ack) {
        wire::Envelope out;
        *out.mutable_result_ack() = std::move(ack);
        answer(s.id, e.request_id(), std::move(out));
    };

    // Answers now and ignores the result's remaining parts, answering its last part again (the
    // worker may wait on either).
    const auto answerEarly = [&](const wire::ResultAck& ack) {
        if (!isLastPart(part)) {
            if (s.droppedResults.size() >= kDroppedResultsKept) s.droppedResults.erase(s.droppedResults.begin());
            s.droppedResults[key] = ack;
        }
        reply(ack);
    };
    const bool first = part.gradient().content().offset() == 0;
    if (first) {
        s.results.erase(key);
        s.arrivals.erase(key);
        s.droppedResults.erase(key);
    } else if (auto dropped = s.droppedResults.find(key); dropped != s.droppedResults.end()) {
        if (isLastPart(part)) {
            reply(dropped->second);
            s.droppedResults.erase(dropped);
        }
        return;
    }
    auto it = s.results.find(key);
    if (it == s.results.end()) {
        if (!first)
            refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
                   QStringLiteral("a part of the result for work unit %1 arrived without its beginning").arg(unitId),
                   QStringLiteral("send a result's parts in order, starting at offset 0"));
        if (s.results.size() >= kResultsInFlight)
            refuse(wire::ERROR_CODE_INVALID_ARGUMENT, QStringLiteral("too many results half-sent on this connection"),
                   QStringLiteral("send each result's parts in order, one result after the other"));
        const std::optional<ledger::WorkUnit> unit = store_->workUnit(unitId);
        if (unit && unit->state == ledger::WorkUnitState::Done) {  // a straggler's copy, or sent twice
            wire::ResultAck ack;
            ack.set_work_unit_id(idText(unitId));
            ack.set_status(wire::RESULT_STATUS_DUPLICATE);
            ack.set_reason("another result for this work unit was counted first");
            return answerEarly(ack);
        }
        const JobRunner* r = unit ? runner(unit->job) : nullptr;
        if (!r)
            return answerEarly(rejectResult(s, unitId,
                                            unit ? QStringLiteral("job %1 has ended").arg(unit->job)
                                                 : QStringLiteral("there is no work unit %1").arg(unitId),
                                            false));
        it = s.results
                 .emplace(key,
                          std::make_unique<protocol::ResultAssembler>(static_cast<std::uint64_t>(r->parameterCount())))
                 .first;
    }
    Session::Arrival& arrival = s.arrivals[key];
    if (first) arrival.first = StepWaterfall::Clock::now();
    arrival.bytes += static_cast<std::int64_t>(part.gradient().content().data().size());
    try {
        it->second->add(part);
    } catch (const raven::Error& error) {
        s.results.erase(it);
        s.arrivals.erase(key);
        return answerEarly(rejectResult(s, unitId, QString::fromStdString(error.message()), true));
    }
    if (!it->second->complete()) return;
    const protocol::WorkResult result = it->second->result();
    s.results.erase(it);
    const Session::Arrival arrived = s.arrivals[key];
    s.arrivals.erase(key);
    const StepWaterfall::Clock::time_point complete = StepWaterfall::Clock::now();
    const ledger::JobId job = store_->workUnit(unitId)->job;
    const wire::ResultAck ack = judgeResult(s, unitId, result);
    const bool accepted = ack.status() == wire::RESULT_STATUS_ACCEPTED;
    if (accepted)
        if (auto w = waterfalls_.find(job); w != waterfalls_.end()) {
            const StepWaterfall::Clock::time_point now = StepWaterfall::Clock::now();
            StepWaterfall::Result r;
            r.computeMs = static_cast<double>(result.computeMs);
            r.uploadMs = std::chrono::duration<double, std::milli>(complete - arrived.first).count();
            r.ingestMs = std::chrono::duration<double, std::milli>(now - complete).count();
            r.bytes = arrived.bytes;
            r.samples = static_cast<std::int64_t>(result.sampleCount);
            w->second.accepted(s.principalId, r, now);
        }
    reply(ack);
    if (accepted) advance(job);
}

wire::ResultAck Engine::judgeResult(Session& s, ledger::WorkUnitId unitId, const protocol::WorkResult& result) {
    const std::optional<ledger::WorkUnit> unit = store_->workUnit(unitId);
    wire::ResultAck ack;
    ack.set_work_unit_id(idText(unitId));
    if (unit->state == ledger::WorkUnitState::Done) {
        ack.set_status(wire::RESULT_STATUS_DUPLICATE);
        ack.set_reason("another result for this work unit was counted first");
        return ack;
    }
    JobRunner* r = runner(unit->job);
    if (!r) return rejectResult(s, unitId, QStringLiteral("job %1 has ended").arg(unit->job), false);
    if (unit->modelVersion != r->version())
        return rejectResult(s, unitId,
                            QStringLiteral("the unit is for model version %1 but job %2 is at version %3")
                                .arg(unit->modelVersion)
                                .arg(unit->job)
                                .arg(r->version()),
                            false);
    const std::int64_t samples = r->samplesOf(unit->shardHashes);
    const ResultFacts facts = ResultFacts::of(result.gradient, result.sampleCount, result.loss, result.correct);
    ResultPlausibility& plausible = plausibility_[unit->job];
    if (const std::optional<QString> why = plausible.judge(facts, static_cast<std::uint64_t>(samples)))
        return rejectResult(s, unitId, *why, true);

    // On disk before the store counts it: an accepted result must survive a crash.
    r->saveResult(unitId, s.principalId, result);
    crashPoint(CrashPoint::ResultSaved);
    const ledger::AcceptResult accepted = leases_->acceptResult(unitId, s.principalId, utcNow());
    if (accepted.outcome == ledger::AcceptOutcome::Accepted) crashPoint(CrashPoint::ResultAccepted);
    switch (accepted.outcome) {
        case ledger::AcceptOutcome::Accepted: {
            const QDateTime leasedAt = unit->leaseDeadline.addMSecs(-options_.unitDeadlineMs);
            const double ms = static_cast<double>(std::max<qint64>(0, leasedAt.msecsTo(utcNow())));
            turnaroundMs_ = turnaroundMs_ > 0.0 ? 0.8 * turnaroundMs_ + 0.2 * ms : ms;
            plausible.learn(facts);
            recentlyAccepted_[s.principalId].push_back(utcNow());
            ack.set_status(wire::RESULT_STATUS_ACCEPTED);
            ack.set_credited_micro_credits(accepted.paid);
            return ack;
        }
        case ledger::AcceptOutcome::Duplicate:  // not reached: the unit was checked not done above
            ack.set_status(wire::RESULT_STATUS_DUPLICATE);
            ack.set_reason("another result for this work unit was counted first");
            return ack;
        case ledger::AcceptOutcome::NotLeased:
            r->discardResult(unitId);
            return rejectResult(
                s, unitId,
                QStringLiteral("you hold no lease on work unit %1 (handed back, or never leased)").arg(unitId), false);
        case ledger::AcceptOutcome::OutOfBudget:
            r->discardResult(unitId);
            announceState(unit->job, QStringLiteral("out of budget"));
            return rejectResult(s, unitId, QStringLiteral("job %1 is out of budget").arg(unit->job), false);
        case ledger::AcceptOutcome::JobEnded:
            r->discardResult(unitId);
            return rejectResult(s, unitId, QStringLiteral("job %1 has ended").arg(unit->job), false);
    }
    return ack;
}

}  // namespace raven::coordinator
