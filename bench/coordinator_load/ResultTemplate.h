#pragma once
// ResultTemplate: one real result, computed once and stamped onto every unit the simulated workers
// are granted, so that thousands of workers cost the load generator no arithmetic while the
// coordinator receives results it must accept: the gradient of the job's own model (the right size
// and encoding, finite, with a believable norm and loss, ResultPlausibility.h).
//
//   ResultTemplate result;
//   result.build(client, firstUnit, [&](const QString& error) { ... });   // as a real worker would:
//       // FetchManifest, FetchShard for each shard, FetchWeights, then UnitComputer on the CPU
//   for (wire::SubmitResult& part : result.partsFor(unit)) client.send(...);
//
// Every unit gets the same gradient bytes; its sample count is its own shards' (from the manifest),
// and its loss and correct count are the template's per-sample figures times that count.
#include <QHash>
#include <QString>

#include <chrono>
#include <functional>
#include <vector>

#include "protocol/raven.pb.h"

namespace raven::protocol {
class ProtocolClient;
}

namespace raven::bench {

class ResultTemplate {
public:
    using Done = std::function<void(const QString& error)>;

    // Fetches the unit's inputs over `client` (which must hold the unit's lease) and computes its
    // gradient; `done` gets an empty string on success, else what failed.
    void build(protocol::ProtocolClient& client, const wire::WorkUnit& unit, Done done);

    bool ready() const { return !parts_.empty(); }
    bool building() const { return building_; }
    // The SubmitResult messages of `unit`'s result (valid once ready()).
    std::vector<wire::SubmitResult> partsFor(const wire::WorkUnit& unit) const;

    // Serialized bytes of one result's messages, and the element count of the gradient.
    std::int64_t wireBytes() const { return wireBytes_; }
    std::uint64_t elements() const { return elements_; }
    double computeSeconds() const { return computeSeconds_; }
    const QString& summary() const { return summary_; }

private:
    void fetchShards(protocol::ProtocolClient& client, std::size_t next);
    void compute();
    void fail(const QString& error);

    bool building_ = false;
    Done done_;
    wire::WorkUnit unit_;
    QByteArray manifestBytes_;
    std::vector<QByteArray> shards_;
    QByteArray weights_;
    QHash<QString, std::int64_t> samplesOfShard_;
    std::vector<wire::SubmitResult> parts_;
    double lossPerSample_ = 0.0;
    double correctPerSample_ = 0.0;
    std::int64_t wireBytes_ = 0;
    std::uint64_t elements_ = 0;
    double computeSeconds_ = 0.0;
    QString summary_;
};

}  // namespace raven::bench
