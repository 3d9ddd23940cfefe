// Requesters' questions about one of their jobs that only read the store: who computed it
// (JobContributorsQuery), and the job's settings carried in every JobInfo.
#include <QJsonDocument>

#include <cmath>

#include "coordinator/Engine.h"
#include "coordinator/JobContributors.h"
#include "coordinator/RequestError.h"
#include "coordinator/WireIds.h"
#include "nn/Architecture.h"
#include "protocol/BoundedText.h"

namespace raven::coordinator {

namespace {

// A unit is paid for samples x training FLOPs per sample (JobRunner::unitsOfCurrentStep), so the
// samples come back from the FLOPs without reading every unit's shard list.
double trainingFlopsPerSample(const ledger::Job& job) {
    try {
        const std::string spec = QJsonDocument(job.spec).toJson(QJsonDocument::Compact).toStdString();
        return nn::Architecture(nn::ModelSpec::parse(spec, "job spec")).trainingFlopsPerSample();
    } catch (const raven::Error&) {
        return 0.0;  // a spec this build cannot read: samples are not known
    }
}

}  // namespace

void Engine::onJobContributors(Session& s, const wire::Envelope& e) {
    requireRequester(s, "JobContributorsQuery");
    const ledger::Job job = ownJob(s, e.job_contributors_query().job_id());
    const double flopsPerSample = trainingFlopsPerSample(job);
    wire::Envelope reply;
    wire::JobContributors& out = *reply.mutable_job_contributors();
    out.set_job_id(idText(job.id));
    for (const JobContributorFigures& f : jobContributors(*store_, job.id)) {
        wire::JobContributor& c = *out.add_contributors();
        c.set_contributor_id(idText(f.contributor));
        c.set_display_name(protocol::boundText(f.name).toStdString());
        c.set_work_units(static_cast<std::uint64_t>(f.workUnits));
        if (flopsPerSample > 0.0)
            c.set_samples(static_cast<std::uint64_t>(std::llround(static_cast<double>(f.flops) / flopsPerSample)));
        c.set_flops(static_cast<double>(f.flops));
        c.set_micro_credits(f.earned);
        c.set_results_rejected(static_cast<std::uint64_t>(f.resultsRejected));
        if (f.firstLeased.isValid()) c.set_first_leased_ms(unixMs(f.firstLeased));
        if (f.lastAccepted.isValid()) c.set_last_accepted_ms(unixMs(f.lastAccepted));
        c.set_quarantined(verifier_->quarantined(f.contributor));
        c.set_work_units_verified(static_cast<std::uint64_t>(verifier_->policy().trust(f.contributor).verified));
    }
    answer(s.id, e.request_id(), std::move(reply));
}

void Engine::describeSettings(const ledger::Job& job, wire::JobInfo& info) const {
    info.set_dataset_id(job.dataset.toStdString());
    try {
        const JobConfig config = JobConfig::fromJson(job.hyperparameters);
        *info.mutable_hyperparameters() = config.hyperparameters;
        info.set_model_spec_sha256(config.modelSpecSha256.toStdString());
        info.set_priority(config.priority);
    } catch (const raven::Error&) {
        // Settings this build cannot read: the job is still listed, without them.
    }
}

}  // namespace raven::coordinator
