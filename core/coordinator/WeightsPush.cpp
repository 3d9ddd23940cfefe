#include "coordinator/WeightsPush.h"

#include <QString>

#include <set>
#include <utility>

#include "coordinator/WireIds.h"
#include "protocol/Protocol.h"

namespace raven::coordinator {
namespace {

// Room kept in a grant's message for its envelope and the chunks' own fields.
constexpr std::int64_t kMargin = 64 * 1024;

}  // namespace

std::vector<wire::WeightsChunk> weightsDeltaChunks(ledger::JobId job, qint64 version, const WeightsDeltaOffer& offer,
                                                   bool zstd, std::uint64_t offset, Transfers& transfers) {
    std::vector<wire::WeightsChunk> out;
    for (wire::ContentChunk& c :
         transfers.chunks(QStringLiteral("weights-delta:%1:%2").arg(job).arg(version), *offer.delta, zstd, offset)) {
        wire::WeightsChunk& w = out.emplace_back();
        w.set_job_id(std::to_string(job));
        w.set_model_version(static_cast<std::uint64_t>(version));
        w.set_delta_base_version(static_cast<std::uint64_t>(offer.baseVersion));
        w.set_weights_sha256(offer.weightsSha256);
        *w.mutable_content() = std::move(c);
    }
    return out;
}

std::vector<PushedWeights> pushWeights(const wire::LeaseRequest& request, wire::LeaseGrant& grant,
                                       const WeightsLookup& weightsOf, Transfers& transfers,
                                       const WeightsDeltaLookup& deltaOf) {
    std::vector<PushedWeights> pushed;
    if (!request.push_weights()) return pushed;
    std::set<std::pair<std::string, std::uint64_t>> done;
    for (const wire::WeightsHeld& held : request.held_weights()) done.emplace(held.job_id(), held.model_version());
    auto size = static_cast<std::int64_t>(grant.ByteSizeLong());
    for (int u = 0; u < grant.units_size(); ++u) {
        const wire::WorkUnit& unit = grant.units(u);
        if (!done.emplace(unit.job_id(), unit.model_version()).second) continue;
        const ledger::JobId job = parseId(unit.job_id(), "job_id");
        const auto version = static_cast<qint64>(unit.model_version());
        if (const std::optional<WeightsDeltaOffer> offer = deltaOf ? deltaOf(job, version) : std::nullopt;
            offer && done.count({unit.job_id(), static_cast<std::uint64_t>(offer->baseVersion)}) == 1) {
            std::vector<wire::WeightsChunk> chunks =
                weightsDeltaChunks(job, version, *offer, request.accept_zstd(), 0, transfers);
            std::int64_t travelling = 0;
            for (const wire::WeightsChunk& c : chunks)
                travelling += static_cast<std::int64_t>(c.content().data().size());
            if (size + travelling + kMargin <= protocol::kMaxMessageBytes) {
                for (wire::WeightsChunk& c : chunks) {
                    c.set_job_id(unit.job_id());  // the worker's spelling, as for whole weights
                    *grant.add_weights() = std::move(c);
                }
                size = static_cast<std::int64_t>(grant.ByteSizeLong());
                pushed.push_back({job, version, travelling});
                continue;
            }
        }
        const QByteArray* weights = weightsOf(job, version);
        if (!weights) continue;
        std::vector<wire::ContentChunk> chunks =
            transfers.chunks(QStringLiteral("weights:%1:%2").arg(job).arg(version), *weights, request.accept_zstd(), 0,
                             !request.accept_unhashed_weights());
        std::int64_t travelling = 0;
        for (const wire::ContentChunk& c : chunks) travelling += static_cast<std::int64_t>(c.data().size());
        if (size + travelling + kMargin > protocol::kMaxMessageBytes) continue;  // fetched by the worker instead
        for (wire::ContentChunk& c : chunks) {
            wire::WeightsChunk& w = *grant.add_weights();
            w.set_job_id(unit.job_id());
            w.set_model_version(unit.model_version());
            *w.mutable_content() = std::move(c);
        }
        size = static_cast<std::int64_t>(grant.ByteSizeLong());
        pushed.push_back({job, version, travelling});
    }
    return pushed;
}

}  // namespace raven::coordinator
