// Requesters: datasets and specs in, jobs created and controlled, metrics and checkpoints out; and
// every principal's credits.
#include <QDir>
#include <QJsonDocument>

#include "coordinator/Engine.h"
#include "coordinator/RequestError.h"
#include "coordinator/WireIds.h"
#include "ledger/Transaction.h"
#include "nn/Architecture.h"
#include "protocol/BoundedText.h"

namespace raven::coordinator {

namespace {

// Shards one connection may upload at once, and the largest shard accepted.
constexpr std::size_t kUploadsInFlight = 8;
constexpr std::uint64_t kMaxShardBytes = 64ull << 20;

QString datasetIdOf(const std::string& text) {
    const QString id = QString::fromStdString(text);
    if (!data::ShardStore::isShardName(id))
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT, QStringLiteral("\"%1\" is not a dataset id").arg(id.left(80)),
               QStringLiteral("a dataset id is the 64 hex digits UploadDataset answered"));
    return id;
}

}  // namespace

ledger::Job Engine::ownJob(const Session& s, const std::string& jobId) const {
    const ledger::JobId id = parseId(jobId, "job_id");
    const std::optional<ledger::Job> job = store_->job(id);
    if (!job)
        refuse(wire::ERROR_CODE_NOT_FOUND, QStringLiteral("no job %1 on this coordinator").arg(id),
               QStringLiteral("list your jobs with ListJobs (`raven jobs`)"));
    if (job->requester != s.principalId)
        refuse(wire::ERROR_CODE_PERMISSION_DENIED, QStringLiteral("job %1 belongs to another requester").arg(id),
               QStringLiteral("list your jobs with ListJobs (`raven jobs`)"));
    return *job;
}

void Engine::onUploadDataset(Session& s, const wire::Envelope& e) {
    requireRequester(s, "UploadDataset");
    const wire::UploadDataset& u = e.upload_dataset();
    QStringList declared;
    for (const std::string& hash : u.shard_sha256()) declared << QString::fromStdString(hash);
    const DataLibrary::DatasetUpload upload =
        asInvalidArgument([&] { return library_->addDataset(QByteArray::fromStdString(u.manifest_json()), declared); });
    wire::Envelope reply;
    wire::UploadDatasetReply& out = *reply.mutable_upload_dataset_reply();
    out.set_dataset_id(upload.id.toStdString());
    for (const QString& hash : upload.missingShards) out.add_missing_shard_sha256(hash.toStdString());
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::onUploadShard(Session& s, const wire::Envelope& e) {
    requireRequester(s, "UploadShard");
    const wire::UploadShard& u = e.upload_shard();
    const QString dataset = datasetIdOf(u.dataset_id());
    if (!library_->hasDataset(dataset))
        refuse(wire::ERROR_CODE_NOT_FOUND, QStringLiteral("no dataset %1 on this coordinator").arg(dataset),
               QStringLiteral("declare it with UploadDataset first"));
    const wire::ContentChunk& chunk = u.content();
    const std::string& hash = chunk.content_sha256();
    auto it = s.uploads.find(hash);
    if (chunk.offset() == 0) {
        const data::Manifest& manifest = library_->manifest(dataset);
        bool listed = false;
        for (const auto* split : {&manifest.train, &manifest.test})
            for (const data::ShardRef& ref : split->shards) listed = listed || ref.hash.toStdString() == hash;
        if (!listed)
            refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
                   QStringLiteral("shard %1 is not one of dataset %2's")
                       .arg(QString::fromStdString(hash).left(80), dataset),
                   QStringLiteral("upload the shards UploadDataset named as missing"));
        if (it != s.uploads.end()) s.uploads.erase(it);
        if (s.uploads.size() >= kUploadsInFlight)
            refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
                   QStringLiteral("too many shard uploads half-done on this connection"),
                   QStringLiteral("send each shard's chunks in order, one shard after the other"));
        it = s.uploads.emplace(hash, std::make_unique<protocol::ContentAssembler>(kMaxShardBytes)).first;
    } else if (it == s.uploads.end()) {
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
               QStringLiteral("a chunk of shard %1 arrived without its beginning")
                   .arg(QString::fromStdString(hash).left(80)),
               QStringLiteral("upload a shard's chunks in order, starting at offset 0"));
    }
    try {
        it->second->add(chunk);
    } catch (const raven::Error& error) {
        s.uploads.erase(it);
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT, QString::fromStdString(error.message()),
               QString::fromStdString(error.hint()));
    }
    if (it->second->complete()) {
        const QByteArray bytes = it->second->content();
        s.uploads.erase(it);
        asInvalidArgument([&] { return library_->addShard(dataset, bytes); });
    }
    wire::Envelope reply;
    reply.mutable_ack();
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::onUploadModelSpec(Session& s, const wire::Envelope& e) {
    requireRequester(s, "UploadModelSpec");
    const wire::UploadModelSpec& u = e.upload_model_spec();
    const std::string label = u.name().empty() ? "the uploaded spec" : protocol::quotePeer(u.name(), 80).toStdString();
    const nn::Architecture arch =
        asInvalidArgument([&] { return nn::Architecture(nn::ModelSpec::parse(u.spec_json(), label)); });
    if (const std::optional<QString> why = bounds_.checkSpec(arch))
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT, *why, JobBounds::hint());
    const QString sha = asInvalidArgument([&] { return library_->addSpec(u.spec_json(), label); });
    wire::Envelope reply;
    reply.mutable_upload_model_spec_reply()->set_model_spec_sha256(sha.toStdString());
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::onCreateJob(Session& s, const wire::Envelope& e) {
    requireRequester(s, "CreateJob");
    const wire::CreateJob& c = e.create_job();
    const QString datasetId = datasetIdOf(c.dataset_id());
    if (!library_->hasDataset(datasetId))
        refuse(wire::ERROR_CODE_NOT_FOUND, QStringLiteral("no dataset %1 on this coordinator").arg(datasetId),
               QStringLiteral("upload it first (UploadDataset, then its shards)"));
    const data::Manifest& manifest = library_->manifest(datasetId);
    const QStringList missing = library_->missingShards(manifest);
    if (!missing.isEmpty())
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
               QStringLiteral("%1 shard(s) of dataset %2 are not uploaded yet").arg(missing.size()).arg(datasetId),
               QStringLiteral("upload the shards UploadDataset named as missing, then create the job"));
    const QString specSha = QString::fromStdString(c.model_spec_sha256());
    const std::optional<std::string> spec = library_->spec(specSha);
    if (!spec)
        refuse(wire::ERROR_CODE_NOT_FOUND,
               QStringLiteral("no model spec \"%1\" on this coordinator").arg(specSha.left(80)),
               QStringLiteral("upload it first (UploadModelSpec) and use the SHA-256 it answers"));
    JobConfig config =
        asInvalidArgument([&] { return JobConfig::fromWire(c.hyperparameters(), c.priority(), specSha); });
    const training::StepPlan plan = asInvalidArgument([&] { return training::StepPlan(manifest, config.plan); });
    const nn::ModelSpec parsed = asInvalidArgument([&] { return nn::ModelSpec::parse(*spec, "the job's model spec"); });
    const UnitSizing sizing = sizingForNewJob();
    {
        // The largest unit this job can have: a whole step (one worker, or a fixed shardsPerUnit).
        const nn::Architecture arch = asInvalidArgument([&] { return nn::Architecture(parsed); });
        // A lane holds one inner batch's activations at a time, however many inner steps it takes.
        const auto heldSamples = config.localSteps ? config.localSteps->innerBatch : plan.samplesOfStep(0);
        if (const std::optional<QString> why = bounds_.checkUnit(arch, static_cast<double>(heldSamples)))
            refuse(wire::ERROR_CODE_INVALID_ARGUMENT, *why, JobBounds::hint());
        // How every step of this job is cut into units, fixed now and kept with the job.
        config.shardsPerUnit = config.localSteps
                                   ? asInvalidArgument([&] { return laneShards(*config.localSteps, manifest); })
                                   : newJobShardsPerUnit(arch, plan, config.gradientEncoding, sizing);
    }
    if (parsed.inputShape != manifest.featureShape)
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
               QStringLiteral("the model takes inputs of shape %1 but dataset %2's samples are %3")
                   .arg(QString::fromStdString(nn::shapeText(parsed.inputShape)), QString::fromStdString(manifest.name),
                        QString::fromStdString(nn::shapeText(manifest.featureShape))),
               QStringLiteral("set the spec's input shape to the dataset's feature shape"));
    if (c.budget_micro_credits() <= 0)
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT, QStringLiteral("a job needs a positive budget"),
               QStringLiteral("give budget_micro_credits (1 credit = 1,000,000)"));
    const ledger::MicroCredits funds = ledger_->balance(ledger::Account::requester(s.principalId));
    if (funds < c.budget_micro_credits())
        refuse(wire::ERROR_CODE_BUDGET_EXHAUSTED,
               QStringLiteral("a budget of %1 micro-credits exceeds your funds of %2")
                   .arg(c.budget_micro_credits())
                   .arg(funds),
               QStringLiteral("lower the budget or ask the coordinator's operator for a deposit"));

    const QDateTime now = utcNow();
    const QJsonObject specObject = QJsonDocument::fromJson(QByteArray::fromStdString(*spec)).object();
    const QString name =
        c.name().empty() ? QString::fromStdString(parsed.name) : QString::fromStdString(c.name()).left(200);
    ledger::JobId id = 0;
    {
        // Created, funded and running in one transaction: a crash leaves no half-made job.
        ledger::Transaction tx(store_->connection());
        id = store_->addJob({s.principalId, name, specObject, config.toJson(), datasetId}, now);
        ledger_->fundJob(id, c.budget_micro_credits(), now);
        store_->setJobState(id, ledger::JobState::Running, now);
        tx.commit();
    }
    QDir(JobFiles(options_.dataDir, id).dir()).removeRecursively();  // left by a job whose creation was rolled back
    if (!config.localSteps) {
        const std::int64_t shards = std::max<std::int64_t>(1, plan.shardsPerStep());
        const std::int64_t units = (shards + config.shardsPerUnit - 1) / config.shardsPerUnit;
        qInfo("coordinator: job %lld: each step cut into %lld unit(s) of at most %lld shard(s), %s",
              static_cast<long long>(id), static_cast<long long>(units), static_cast<long long>(config.shardsPerUnit),
              options_.shardsPerUnit > 0 ? "as --shards-per-unit says" : ("sized for " + sizing.describe()).c_str());
    }
    try {
        runners_[id] = openRunner(*store_->job(id));
    } catch (const raven::Error& error) {
        failJob(id, QString::fromStdString(error.message()));
    } catch (const std::exception& error) {
        // std::bad_alloc and the like: the job cannot run here; it fails, its escrow goes back.
        failJob(id,
                QStringLiteral("the coordinator could not set the job up: %1").arg(QString::fromUtf8(error.what())));
    }
    advance(id);
    wire::Envelope reply;
    *reply.mutable_job_info() = jobInfo(*store_->job(id));
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::onListJobs(Session& s, const wire::Envelope& e) {
    requireRequester(s, "ListJobs");
    wire::Envelope reply;
    wire::JobList& out = *reply.mutable_job_list();
    for (const ledger::Job& job : store_->jobs())
        if (job.requester == s.principalId) *out.add_jobs() = jobInfo(job);
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::onControlJob(Session& s, const wire::Envelope& e) {
    requireRequester(s, "ControlJob");
    const ledger::Job job = ownJob(s, e.control_job().job_id());
    const QDateTime now = utcNow();
    const auto finished = [&] {
        refuse(wire::ERROR_CODE_INVALID_ARGUMENT,
               QStringLiteral("job %1 is %2; it cannot change any more").arg(job.id).arg(ledger::nameOf(job.state)),
               QStringLiteral("submit a new job"));
    };
    switch (e.control_job().action()) {
        case wire::JOB_ACTION_PAUSE:
            if (ledger::isTerminal(job.state)) finished();
            if (job.state != ledger::JobState::Paused) {
                store_->setJobState(job.id, ledger::JobState::Paused, now);
                announceState(job.id, QStringLiteral("paused by its requester"));
            }
            break;
        case wire::JOB_ACTION_RESUME:
            if (ledger::isTerminal(job.state)) finished();
            if (job.state != ledger::JobState::Running) {
                store_->setJobState(job.id, ledger::JobState::Running, now);
                announceState(job.id, QStringLiteral("resumed by its requester"));
                advance(job.id);
            }
            break;
        case wire::JOB_ACTION_CANCEL:
            if (job.state == ledger::JobState::Done) finished();
            if (job.state != ledger::JobState::Cancelled) endJob(job.id, ledger::JobState::Cancelled, "cancelled");
            break;
        default:
            refuse(wire::ERROR_CODE_INVALID_ARGUMENT, QStringLiteral("ControlJob without an action"),
                   QStringLiteral("use PAUSE, RESUME or CANCEL"));
    }
    wire::Envelope reply;
    *reply.mutable_job_info() = jobInfo(*store_->job(job.id));
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::onSubscribe(Session& s, const wire::Envelope& e) {
    requireRequester(s, "SubscribeMetrics");
    const ledger::Job job = ownJob(s, e.subscribe_metrics().job_id());
    wire::Envelope ack;
    ack.mutable_ack();
    answer(s.id, e.request_id(), std::move(ack));
    metrics_->subscribe(s.id, e.request_id(), job.id, e.subscribe_metrics().include_history());
}

void Engine::onUnsubscribe(Session& s, const wire::Envelope& e) {
    requireRequester(s, "Unsubscribe");
    if (!metrics_->unsubscribe(s.id, e.unsubscribe().subscription_request_id()))
        refuse(wire::ERROR_CODE_NOT_FOUND,
               QStringLiteral("no subscription %1 on this connection").arg(e.unsubscribe().subscription_request_id()),
               QStringLiteral("give the request id of your SubscribeMetrics"));
    wire::Envelope reply;
    reply.mutable_ack();
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::onDownloadCheckpoint(Session& s, const wire::Envelope& e) {
    requireRequester(s, "DownloadCheckpoint");
    const wire::DownloadCheckpoint& d = e.download_checkpoint();
    const ledger::Job job = ownJob(s, d.job_id());
    const auto asked = static_cast<qint64>(std::min<std::uint64_t>(d.model_version(), 1ull << 62));
    const qint64 version = asked == 0 ? job.modelVersion : asked;
    const JobFiles files(options_.dataDir, job.id);
    const std::optional<QByteArray> bytes = files.checkpoint(version, job.modelVersion);
    if (!bytes) {
        QStringList kept;
        for (const qint64 v : files.checkpointVersions()) kept << QString::number(v);
        kept << QString::number(job.modelVersion);
        refuse(wire::ERROR_CODE_NOT_FOUND,
               QStringLiteral("job %1 keeps no checkpoint of version %2").arg(job.id).arg(version),
               QStringLiteral("versions kept: %1 (0 = the latest)").arg(kept.join(", ")));
    }
    const auto chunks = asInvalidArgument([&] {
        return transfers_.chunks(QStringLiteral("checkpoint:%1:%2").arg(job.id).arg(version), *bytes, d.accept_zstd(),
                                 d.offset());
    });
    for (const wire::ContentChunk& chunk : chunks) {
        wire::Envelope reply;
        wire::CheckpointChunk& out = *reply.mutable_checkpoint_chunk();
        out.set_job_id(idText(job.id));
        out.set_model_version(static_cast<std::uint64_t>(version));
        *out.mutable_content() = chunk;
        answer(s.id, e.request_id(), std::move(reply));
    }
}

void Engine::onBalance(Session& s, const wire::Envelope& e) {
    requireAuthenticated(s, "BalanceQuery");
    const bool contributor = s.principal == Principal::Contributor;
    const ledger::Account account =
        contributor ? ledger::Account::contributor(s.principalId) : ledger::Account::requester(s.principalId);
    wire::Envelope reply;
    wire::Balance& out = *reply.mutable_balance();
    out.set_account((contributor ? "contributor:" : "requester:") + idText(s.principalId));
    out.set_micro_credits(ledger_->balance(account));
    out.set_micro_credits_per_teraflop(ledger_->rate().perTeraflop);
    if (contributor) {
        const ledger::ContributorStats stats = ledger_->contributorStats(s.principalId, 1, utcNow());
        out.set_pending_micro_credits(stats.pending);
        out.set_revoked_micro_credits(stats.revoked);
    } else {
        // A requester's view: what its jobs paid that may still come back, and what came back.
        const auto [pending, revoked] = ledger_->requesterCredits(s.principalId);
        out.set_pending_micro_credits(pending);
        out.set_revoked_micro_credits(revoked);
    }
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::onContributorStats(Session& s, const wire::Envelope& e) {
    requireAuthenticated(s, "ContributorStatsQuery");
    const wire::ContributorStatsQuery& q = e.contributor_stats_query();
    // A contributor's earnings and devices are its own: requesters see who computed their jobs
    // through the job's metrics, never another party's statistics.
    if (s.principal != Principal::Contributor)
        refuse(wire::ERROR_CODE_PERMISSION_DENIED,
               QStringLiteral("contributor statistics are for the contributor alone"),
               QStringLiteral("connect with the contributor's token to see its statistics"));
    ledger::ContributorId who = 0;
    if (q.contributor_id().empty()) {
        who = s.principalId;
    } else {
        who = parseId(q.contributor_id(), "contributor_id");
        if (s.principal == Principal::Contributor && who != s.principalId)
            refuse(wire::ERROR_CODE_PERMISSION_DENIED, QStringLiteral("contributors see only their own statistics"),
                   QStringLiteral("leave contributor_id empty"));
    }
    if (!store_->contributor(who))
        refuse(wire::ERROR_CODE_NOT_FOUND, QStringLiteral("no contributor %1").arg(who), QString());
    const int days = q.days() == 0 ? 7 : static_cast<int>(std::min<std::uint32_t>(q.days(), 366));
    const QDateTime now = utcNow();
    const ledger::ContributorStats stats = ledger_->contributorStats(who, days, now);
    wire::Envelope reply;
    wire::ContributorStats& out = *reply.mutable_contributor_stats();
    out.set_contributor_id(idText(who));
    out.set_work_units_accepted(static_cast<std::uint64_t>(stats.workUnitsAccepted));
    out.set_work_units_rejected(static_cast<std::uint64_t>(stats.resultsRejected));
    // Duplicates: leases whose unit another contributor's result completed first (superseded).
    out.set_work_units_duplicate(
        store_->connection()
            .scalar(QStringLiteral("SELECT COUNT(*) FROM leases WHERE contributor = ? AND state = 'superseded'"), {who})
            .toULongLong());
    out.set_flops(static_cast<double>(stats.flopsAccepted));
    out.set_micro_credits(stats.earned);
    out.set_pending_micro_credits(stats.pending);
    out.set_revoked_micro_credits(stats.revoked);
    out.set_quarantined(verifier_->quarantined(who));
    out.set_work_units_verified(static_cast<std::uint64_t>(verifier_->policy().trust(who).verified));
    out.set_verification_rate(verifier_->policy().rateFor(who));
    for (const ledger::DailyCredits& day : stats.perDay) {
        wire::DailyCredits& d = *out.add_per_day();
        d.set_date(day.day.toString(Qt::ISODate).toStdString());
        d.set_micro_credits(day.amount);
        d.set_work_units(static_cast<std::uint64_t>(day.workUnits));
    }
    answer(s.id, e.request_id(), std::move(reply));
}

}  // namespace raven::coordinator
