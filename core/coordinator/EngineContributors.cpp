// Contributors: leasing work, fetching what it needs, and results: assembled, checked, kept on disk,
// then accepted exactly once through the LeaseBook (which pays).
#include <QFile>

#include <algorithm>
#include <cmath>

#include "coordinator/CrashPoints.h"
#include "coordinator/Engine.h"
#include "coordinator/LearningRateSchedule.h"
#include "coordinator/RequestError.h"
#include "coordinator/WeightsPush.h"
#include "coordinator/WireIds.h"
#include "ledger/Transaction.h"
#include "protocol/BoundedText.h"
#include "protocol/Framing.h"
#include "protocol/WireKernelMode.h"

namespace raven::coordinator {

namespace {

// Results one connection may have half-sent at once (each holds up to a model's gradient).
constexpr std::size_t kResultsInFlight = 16;
// Answers kept for the remaining parts of results answered early; beyond it the oldest is forgotten
// (its sender then gets "arrived without its beginning" for a late part, which it survives).
constexpr std::size_t kDroppedResultsKept = 64;

bool isLastPart(const wire::SubmitResult& part) {
    const wire::ContentChunk& c = part.gradient().content();
    return c.offset() + c.data().size() >= c.total_bytes();
}

}  // namespace

wire::WorkUnit Engine::wireUnit(const ledger::WorkUnit& unit, const JobRunner& runner) const {
    wire::WorkUnit w;
    w.set_id(idText(unit.id));
    w.set_job_id(idText(unit.job));
    // The weights the unit is computed on (a stale job's lanes start from an older version).
    w.set_model_version(static_cast<std::uint64_t>(runner.weightsVersionOf(unit.modelVersion)));
    for (const QString& hash : unit.shardHashes) w.add_shard_hashes(hash.toStdString());
    w.set_deadline_ms(unixMs(unit.leaseDeadline));
    w.set_model_spec_sha256(runner.config().modelSpecSha256.toStdString());
    w.set_local_steps(1);
    if (const auto& local = runner.config().localSteps) {  // a lane of a round (LocalStepsConfig.h)
        const JobConfig& c = runner.config();
        w.set_local_steps(static_cast<std::uint32_t>(local->innerSteps));
        *w.mutable_local_steps_unit() = laneUnit(
            *local, c.optimizer,
            learningRateAt(c.hyperparameters.lr_schedule(), c.optimizer.lr, unit.modelVersion, runner.totalSteps()),
            runner.manifest());
    }
    w.set_kernel_mode(protocol::wireKernelMode(runner.config().kernelMode));
    w.set_gradient_encoding(runner.config().gradientEncoding);
    w.set_gradient_zstd(runner.config().gradientZstd);
    w.set_model_spec_json(runner.specJson());
    w.set_dataset_id(runner.manifest().id.toStdString());
    return w;
}

void Engine::onLeaseRequest(Session& s, const wire::Envelope& e) {
    requireContributor(s, "LeaseRequest");
    if (verifier_->quarantined(s.principalId))
        refuse(wire::ERROR_CODE_PERMISSION_DENIED,
               QStringLiteral("you are quarantined: a result of yours did not match the coordinator's replay of its "
                              "work unit"),
               QStringLiteral("no more work is given to this contributor; see docs/verification.md"));
    const int maxUnits = static_cast<int>(std::clamp<std::uint32_t>(e.lease_request().max_units(), 1, 256));
    s.leaseAsk = e.lease_request();
    // Kept with the session until the next request: a peer's list is bounded here, not by the 8 MiB
    // message limit (a worker holds a few versions; past these, weights are only sent again).
    constexpr int kHeldWeightsKept = 64;
    if (const int held = s.leaseAsk.held_weights_size(); held > kHeldWeightsKept)
        s.leaseAsk.mutable_held_weights()->DeleteSubrange(kHeldWeightsKept, held - kHeldWeightsKept);
    wire::Envelope reply = grantLeases(s, maxUnits, leaseRound());
    if (reply.lease_grant().units_size() == 0) {
        desk_->park({s.id, e.request_id(), maxUnits, {}, s.principalId}, utcNow());
        return;
    }
    answer(s.id, e.request_id(), std::move(reply));
}

wire::Envelope Engine::grantLeases(Session& s, int maxUnits, const LeaseRound& round) {
    if (verifier_->quarantined(s.principalId)) {  // a request parked before it was caught
        wire::Envelope none;
        none.mutable_lease_grant()->set_retry_after_ms(60000);
        return none;
    }
    const Scheduler::Grant grant = desk_->grant({s.principalId, s.gflops, s.maxConcurrentLeases}, maxUnits, round.jobs,
                                                round.totalGflops, utcNow());
    // The one place a LeaseGrant is built: whatever travels with a grant is added here.
    wire::Envelope reply;
    wire::LeaseGrant& out = *reply.mutable_lease_grant();
    for (const ledger::WorkUnit& unit : grant.units) {
        const JobRunner* r = runner(unit.job);
        if (!r) continue;  // cannot happen: only running jobs with runners are leased
        *out.add_units() = wireUnit(unit, *r);
        addPrefetchHints(s, out, *r, unit);
        if (jobWorkers_[unit.job].insert(s.principalId).second)
            metrics_->event(unit.job, wire::JOB_EVENT_KIND_WORKER_JOINED,
                            QStringLiteral("%1 joined").arg(contributorLabel(s.principalId)));
    }
    // The weights the worker lacks travel with the grant (WeightsPush.h).
    const auto weightsOf = [this](ledger::JobId job, qint64 version) {
        const JobRunner* r = runner(job);
        return r ? r->weights(version) : nullptr;
    };
    const auto deltaOf = [this](ledger::JobId job, qint64 version) -> std::optional<WeightsDeltaOffer> {
        const JobRunner* r = runner(job);
        const JobRunner::WeightsDelta* d = r ? r->weightsDelta(version) : nullptr;
        if (!d) return std::nullopt;
        return WeightsDeltaOffer{d->baseVersion, &d->delta, d->weightsSha256};
    };
    for (const PushedWeights& p : pushWeights(s.leaseAsk, out, weightsOf, transfers_, deltaOf)) {
        auto w = waterfalls_.find(p.job);
        if (w == waterfalls_.end()) continue;
        const qint64 current = runner(p.job)->version();
        if (p.version == current)
            w->second.weightsSent(s.principalId, p.bytes, StepWaterfall::Clock::now());
        else if (p.version > current)  // the next step's, leased ahead
            w->second.weightsSentAhead(s.principalId, p.bytes);
    }
    // Parked requests are answered when work appears; an empty grant is the end of a parking.
    if (out.units_size() == 0) out.set_retry_after_ms(20);
    for (const ledger::JobId job : grant.outOfBudget) {
        metrics_->event(job, wire::JOB_EVENT_KIND_BUDGET_LOW,
                        QStringLiteral("the job's escrow cannot pay for more work units; leasing stopped"));
        announceState(job, QStringLiteral("out of budget"));
    }
    return reply;
}

void Engine::addPrefetchHints(Session& s, wire::LeaseGrant& out, const JobRunner& r, const ledger::WorkUnit& unit) {
    const QStringList next = prefetchHints_.forUnit(r, shardsPerUnit(r), unit);
    if (next.isEmpty()) return;
    auto& [version, hashes] = s.prefetchable[unit.job];
    if (version != unit.modelVersion) {
        version = unit.modelVersion;
        hashes.clear();
    }
    for (const QString& hash : next)
        if (!hashes.contains(hash)) {
            hashes.insert(hash);
            out.add_prefetch_shards(hash.toStdString());
        }
}

void Engine::serveParkedLeases() {
    std::optional<LeaseRound> round;  // computed on the first request offered, if any
    desk_->serveParked(
        utcNow(),
        [this, &round](const LeaseDesk::ParkedLease& p) -> std::optional<wire::Envelope> {
            auto it = sessions_.find(p.connection);
            if (it == sessions_.end() || it->second.principal != Principal::Contributor) return std::nullopt;
            if (!round) round = leaseRound();
            return grantLeases(it->second, p.maxUnits, *round);
        },
        [](const LeaseDesk::ParkedLease& p, const std::exception& e) {
            qWarning("coordinator: a parked lease request failed: %s", e.what());
            return protocol::makeError(wire::ERROR_CODE_INTERNAL, QString::fromUtf8(e.what()),
                                       QStringLiteral("ask again"), p.requestId);
        },
        [this](const LeaseDesk::ParkedLease& p, wire::Envelope reply) {
            answer(p.connection, p.requestId, std::move(reply));
        });
}

void Engine::onHandBack(Session& s, const wire::Envelope& e) {
    requireContributor(s, "LeaseHandBack");
    const wire::LeaseHandBack& h = e.lease_hand_back();
    QList<ledger::WorkUnitId> ids;
    for (const std::string& text : h.work_unit_ids()) ids << parseId(text, "work_unit_id");
    const LeaseDesk::HandBack back = desk_->handBack(s.principalId, ids, utcNow());
    // Counted only for units this contributor really held, so that no one can fail a job by
    // handing back units it was never given.
    if (h.could_not_compute())
        for (const ledger::WorkUnit& unit : back.held)
            judge_->noteUnitFailure(unit, s.principalId, QStringLiteral("impossible to compute for"),
                                    QString::fromStdString(h.reason()));
    for (auto it = back.reissued.begin(); it != back.reissued.end(); ++it)
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
    // Or the coordinator hinted it for prefetching, with a lease of the same job (PrefetchHints.h).
    for (const auto& [hinted, prefetch] : s.prefetchable)
        if (!leased && prefetch.second.contains(hash) && runner(hinted)) {
            leased = true;
            job = hinted;
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
        leased = leased || (unit.job == job && r->weightsVersionOf(unit.modelVersion) == version);
    if (!leased)
        refuse(wire::ERROR_CODE_NOT_FOUND,
               QStringLiteral("no weights of job %1 version %2 for you: none of your leases is for them")
                   .arg(job)
                   .arg(version),
               QStringLiteral("the work unit is stale or was never yours: drop it and lease again"));
    // A worker holding the version before gets an int8-down job's delta (WeightsPush.h).
    if (const JobRunner::WeightsDelta* d = r->weightsDelta(version);
        d && f.has_base_version() && f.base_version() == static_cast<std::uint64_t>(d->baseVersion)) {
        const auto chunks = asInvalidArgument([&] {
            return weightsDeltaChunks(job, version, {d->baseVersion, &d->delta, d->weightsSha256}, f.accept_zstd(),
                                      f.offset(), transfers_);
        });
        std::int64_t sent = 0;
        for (const wire::WeightsChunk& chunk : chunks) {
            sent += static_cast<std::int64_t>(chunk.content().data().size());
            wire::Envelope reply;
            *reply.mutable_weights_chunk() = chunk;
            answer(s.id, e.request_id(), std::move(reply));
        }
        if (auto w = waterfalls_.find(job); w != waterfalls_.end() && version == r->version())
            w->second.weightsSent(s.principalId, sent, StepWaterfall::Clock::now());
        return;
    }
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

void Engine::onSubmitResult(Session& s, const wire::Envelope& e) {
    requireContributor(s, "SubmitResult");
    const wire::SubmitResult& part = e.submit_result();
    const ledger::WorkUnitId unitId = parseId(part.work_unit_id(), "work_unit_id");
    const std::string key = idText(unitId);  // canonical: never the peer's spelling of the id
    const auto reply = [&](wire::ResultAck ack) {
        if (ack.status() == wire::RESULT_STATUS_REJECTED) desk_->workMayHaveAppeared();  // its lease may have ended
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
        // Results being checked count too: a peer cannot queue unbounded work for the thread pool.
        if (s.results.size() + static_cast<std::size_t>(s.resultsChecking) >= kResultsInFlight)
            refuse(wire::ERROR_CODE_INVALID_ARGUMENT, QStringLiteral("too many results half-sent on this connection"),
                   QStringLiteral("send each result's parts in order, one result after the other"));
        const std::optional<ledger::WorkUnit> unit = store_->workUnit(unitId);
        if (unit && unit->state == ledger::WorkUnitState::Done) {  // a straggler's copy, or sent twice
            return answerEarly(ResultJudge::duplicate(unitId));
        }
        const JobRunner* r = unit ? runner(unit->job) : nullptr;
        if (!r)
            return answerEarly(judge_->reject(s.principalId, unitId,
                                              unit ? QStringLiteral("job %1 has ended").arg(unit->job)
                                                   : QStringLiteral("there is no work unit %1").arg(unitId),
                                              false));
        it = s.results
                 .emplace(key,
                          std::make_unique<protocol::ResultAssembler>(static_cast<std::uint64_t>(r->parameterCount()),
                                                                      protocol::ContentAssembler::Unhashed::Taken))
                 .first;
        s.arrivals[key].job = unit->job;
    }
    Session::Arrival& arrival = s.arrivals[key];
    if (first) arrival.first = StepWaterfall::Clock::now();
    arrival.bytes += static_cast<std::int64_t>(part.gradient().content().data().size());
    bool allIn = false;
    try {
        allIn = it->second->addPart(part);
    } catch (const raven::Error& error) {
        s.results.erase(it);
        s.arrivals.erase(key);
        return answerEarly(judge_->reject(s.principalId, unitId, QString::fromStdString(error.message()), true));
    }
    if (!allIn) return;
    // Every byte is in: decompressing, hashing, decoding and measuring happen on the pool.
    ArrivedResult arrived;
    arrived.connection = s.id;
    arrived.requestId = e.request_id();
    arrived.contributor = s.principalId;
    arrived.unit = unitId;
    arrived.job = s.arrivals[key].job;
    arrived.assembler = std::move(it->second);
    arrived.firstPart = s.arrivals[key].first;
    arrived.complete = StepWaterfall::Clock::now();
    arrived.bytes = s.arrivals[key].bytes;
    s.results.erase(it);
    s.arrivals.erase(key);
    ++s.resultsChecking;
    ingest_->check(std::move(arrived), [this](CheckedResult checked) { onResultChecked(std::move(checked)); });
    // The worker computes nothing more for this unit: its next one is not held back while this
    // result is checked, written and accepted (LeaseDesk.h).
    desk_->handedIn(s.principalId, unitId);
    serveParkedLeases();
}

void Engine::answerResult(const CheckedResult& checked, wire::ResultAck ack) {
    desk_->judged(checked.contributor, checked.unit);
    if (ack.status() == wire::RESULT_STATUS_REJECTED) desk_->workMayHaveAppeared();  // its lease may have ended
    wire::Envelope out;
    *out.mutable_result_ack() = std::move(ack);
    answer(checked.connection, checked.requestId, std::move(out));  // nothing when the connection is gone
}

void Engine::onResultChecked(CheckedResult checked) {
    if (auto it = sessions_.find(checked.connection); it != sessions_.end()) --it->second.resultsChecking;
    try {
        if (!checked.malformed && (commit_->holds(checked.unit) || replays_->holds(checked.unit))) {
            heldBack_.push_back(std::move(checked));  // judged once the first result's fate is known
        } else {
            judgeChecked(std::move(checked));
        }
        serveParkedLeases();
    } catch (const std::exception& e) {
        qWarning("coordinator: judging the result for work unit %lld failed: %s", static_cast<long long>(checked.unit),
                 e.what());
        desk_->judged(checked.contributor, checked.unit);
        server_->send(checked.connection,
                      protocol::makeError(wire::ERROR_CODE_INTERNAL, QString::fromUtf8(e.what()),
                                          QStringLiteral("send the result again"), checked.requestId));
    }
    retired_.clear();
}

void Engine::judgeChecked(CheckedResult checked) {
    const JobRunner* r = runner(checked.job);
    if (std::optional<wire::ResultAck> ack = judge_->beforeCommit(checked, r))
        return answerResult(checked, std::move(*ack));
    std::optional<CheckedResult> verified = verifyResult(std::move(checked), *r);
    if (!verified) return;  // answered, or replayed first (onReplayed)
    const CheckedResult& c = *verified;
    const ledger::JobId job = c.job;
    const StepsAhead::Origin origin{c.connection, c.requestId, c.contributor, c.unit};
    // The gradient's memory moves with the result into GroupCommit (a moved vector keeps its
    // elements), which holds it until the batch is durable: past this handler.
    const JobRunner::LastResult last{c.unit,
                                     c.contributor,
                                     static_cast<std::int64_t>(c.result.sampleCount),
                                     c.result.loss,
                                     static_cast<std::int64_t>(c.result.correct),
                                     c.result.gradient};
    // On disk before the store counts it: an accepted result must survive a crash (GroupCommit).
    commit_->add({std::move(*verified), r->files(), QString()});
    // V + 1's weights, when this is the step's last result, while it is written and paid.
    takeStepAhead(job, origin, last);
}

void Engine::onBatchDurable(std::vector<CommitItem> batch) {
    const QDateTime now = utcNow();
    std::vector<std::optional<ledger::AcceptResult>> outcomes(batch.size());
    QString failure = batch.empty() ? QString() : batch.front().failure;
    if (failure.isEmpty()) {
        try {
            // One transaction (one fsync of the store) for the whole batch; each acceptance inside is
            // a savepoint, so one that fails leaves the others.
            ledger::Transaction tx(store_->connection());
            for (std::size_t i = 0; i < batch.size(); ++i) {
                try {
                    outcomes[i] = leases_->acceptResult(batch[i].checked.unit, batch[i].checked.contributor, now);
                    const CheckedResult& c = batch[i].checked;
                    // Verified equal: paid for good. Its sender caught while the result was being
                    // written: as suspect as the rest of its unchecked results, so withheld too.
                    if (outcomes[i]->outcome == ledger::AcceptOutcome::Accepted && c.replayMatched)
                        ledger_->confirmCredit(c.unit, now);
                    else if (outcomes[i]->outcome == ledger::AcceptOutcome::Accepted &&
                             verifier_->quarantined(c.contributor))
                        ledger_->revokeCredit(c.unit, ledger::RevokeReason::Quarantined, now);
                } catch (const raven::Error& e) {
                    qWarning("coordinator: accepting the result for work unit %lld failed: %s",
                             static_cast<long long>(batch[i].checked.unit), e.what());
                }
            }
            tx.commit();
        } catch (const std::exception& e) {
            failure = QString::fromUtf8(e.what());
            std::fill(outcomes.begin(), outcomes.end(), std::nullopt);
        }
    }
    if (std::any_of(outcomes.begin(), outcomes.end(),
                    [](const auto& o) { return o && o->outcome == ledger::AcceptOutcome::Accepted; }))
        crashPoint(CrashPoint::ResultAccepted);
    // A stale job accepts the next round's lanes while its step is computed, another job the next
    // step's units leased ahead (JobRunner::leasesAhead()): paid there, with the step's state file
    // not yet written, the store holds done units of two steps at once.
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const JobRunner* r = runner(batch[i].checked.job);
        if (outcomes[i] && outcomes[i]->outcome == ledger::AcceptOutcome::Accepted && r && r->stepping() &&
            r->leasedStep() > r->version()) {
            crashPoint(CrashPoint::AheadLaneAccepted);
            break;  // one arrival per batch, as result-accepted
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const CheckedResult& c = batch[i].checked;
        const bool paid = outcomes[i] && outcomes[i]->outcome == ledger::AcceptOutcome::Accepted;
        if (paid) stepUnits_.done(c.job, c.unit, c.contributor, now);
        ahead_.judged(c.job, {c.connection, c.requestId, c.contributor, c.unit}, paid);
    }
    std::set<ledger::JobId> accepted;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        CommitItem& item = batch[i];
        try {
            if (!outcomes[i]) {
                desk_->judged(item.checked.contributor, item.checked.unit);
                item.files.removeResult(item.checked.unit);
                server_->send(
                    item.checked.connection,
                    protocol::makeError(wire::ERROR_CODE_INTERNAL,
                                        failure.isEmpty() ? QStringLiteral("the result could not be stored") : failure,
                                        QStringLiteral("send the result again"), item.checked.requestId));
                continue;
            }
            const wire::ResultAck ack = afterAcceptance(item, *outcomes[i]);
            if (ack.status() == wire::RESULT_STATUS_ACCEPTED) accepted.insert(item.checked.job);
            answerResult(item.checked, ack);
        } catch (const std::exception& e) {
            qWarning("coordinator: answering the result for work unit %lld failed: %s",
                     static_cast<long long>(item.checked.unit), e.what());
        }
    }
    for (const ledger::JobId job : accepted) advance(job);
    judgeHeldBack();
    serveParkedLeases();
    retired_.clear();
}

void Engine::judgeHeldBack() {
    // Second results for these units: now a duplicate, or the first one's place when it failed.
    std::vector<CheckedResult> held;
    held.swap(heldBack_);
    for (CheckedResult& c : held) {
        if (commit_->holds(c.unit) || replays_->holds(c.unit)) {
            heldBack_.push_back(std::move(c));
            continue;
        }
        try {
            judgeChecked(std::move(c));
        } catch (const std::exception& e) {
            qWarning("coordinator: judging a held-back result failed: %s", e.what());
        }
    }
}

wire::ResultAck Engine::afterAcceptance(CommitItem& item, const ledger::AcceptResult& accepted) {
    CheckedResult& c = item.checked;
    JobRunner* r = runner(c.job);
    const wire::ResultAck ack = judge_->afterAcceptance(c, accepted);
    if (accepted.outcome == ledger::AcceptOutcome::Accepted) {
        const QDateTime now = utcNow();
        const std::optional<ledger::WorkUnit> unit = store_->workUnit(c.unit);
        desk_->delivered(c.contributor, unit->leaseDeadline.addMSecs(-options_.unitDeadlineMs), now);
        const StepWaterfall::Clock::time_point done = StepWaterfall::Clock::now();
        if (auto w = waterfalls_.find(c.job); w != waterfalls_.end()) {
            StepWaterfall::Result step;
            step.computeMs = static_cast<double>(c.result.computeMs);
            step.uploadMs = std::chrono::duration<double, std::milli>(c.complete - c.firstPart).count();
            step.ingestMs = std::chrono::duration<double, std::milli>(done - c.complete).count();
            step.bytes = c.bytes;
            step.samples = static_cast<std::int64_t>(c.result.sampleCount);
            if (r && unit->modelVersion > r->version())  // the next step's, leased ahead
                w->second.acceptedAhead(c.contributor, step);
            else
                w->second.accepted(c.contributor, step, done);
        }
        // Kept in memory for the step (its durable copy is for a restart); the store says done.
        if (r) r->keepResult(c.unit, c.contributor, std::move(c.result));
    } else if (accepted.outcome != ledger::AcceptOutcome::Duplicate) {
        // Not counted: its durable copy goes (a duplicate's files are the counted result's).
        if (r) r->discardResult(c.unit);
        item.files.removeResult(c.unit);
        if (accepted.outcome == ledger::AcceptOutcome::OutOfBudget)
            announceState(c.job, QStringLiteral("out of budget"));
    }
    return ack;
}

}  // namespace raven::coordinator
