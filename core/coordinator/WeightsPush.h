#pragma once
// WeightsPush: the weights that travel with a LeaseGrant (docs/protocol.md, "Weights with the grant").
// A worker that sets LeaseRequest.push_weights says which (job, model_version) weights it holds; the
// grant then carries the weights of its units' versions that the worker lacks, as the chunks a
// FetchWeights would have answered, so that computing starts without another round trip. The worker
// no longer waits a round trip for the new weights at every step.
//
//   const auto pushed = pushWeights(request, grant, [&](JobId j, qint64 v) { return weightsOf(j, v); }, transfers);
//   for (const PushedWeights& p : pushed) waterfall.weightsSent(contributor, p.bytes, now);
//
// Bounded by the message limit: the whole grant stays within protocol::kMaxMessageBytes (less a
// margin); weights that would not fit are left out, and the worker fetches them as before. Requests
// without push_weights (older workers) get no weights. The chunks come from the same Transfers cache
// as FetchWeights (key "weights:<job>:<version>"), so each version is hashed and compressed once.
// An int8-down job's weights (checkpoint/WeightsDelta.h) go as the int8 delta instead when the worker
// holds the version before (WeightsChunk.delta_base_version; key "weights-delta:<job>:<version>").
#include <QByteArray>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/Transfers.h"
#include "ledger/StoreTypes.h"
#include "protocol/raven.pb.h"

namespace raven::coordinator {

struct PushedWeights {
    ledger::JobId job = 0;
    qint64 version = 0;
    std::int64_t bytes = 0;  // travelling bytes attached
};

// The weights of (job, version), or null when they are no longer served.
using WeightsLookup = std::function<const QByteArray*(ledger::JobId job, qint64 version)>;

// The int8 delta that makes the weights of (job, version) from those of the version before, or null
// (JobRunner::weightsDelta).
struct WeightsDeltaOffer {
    qint64 baseVersion = 0;
    const QByteArray* delta = nullptr;
    std::string weightsSha256;  // of the weights the delta makes
};
using WeightsDeltaLookup = std::function<std::optional<WeightsDeltaOffer>(ledger::JobId job, qint64 version)>;

// Attaches to `grant` the weights `request` asks for; returns what was attached.
std::vector<PushedWeights> pushWeights(const wire::LeaseRequest& request, wire::LeaseGrant& grant,
                                       const WeightsLookup& weightsOf, Transfers& transfers,
                                       const WeightsDeltaLookup& deltaOf = {});

// The chunks of the delta `offer` as WeightsChunks of (job, version) from `offset` on.
std::vector<wire::WeightsChunk> weightsDeltaChunks(ledger::JobId job, qint64 version, const WeightsDeltaOffer& offer,
                                                   bool zstd, std::uint64_t offset, Transfers& transfers);

}  // namespace raven::coordinator
