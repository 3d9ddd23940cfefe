#pragma once
// UnitReplay: the coordinator computes a work unit itself, exactly as an honest worker does
// (training::computeGradientSums over the unit's shards in its order, at the unit's model version,
// with the job's kernel mode), so that a contributor's result can be compared with it by digest.
// The replay's gradient is what the coordinator would decode from an honest worker: passed through
// the job's encoding (bf16, or int8 blocks rounded with the unit's own key), not the raw fp32.
//
//   ReplayInput input = ReplayInput::of(runner, unit);          // on the event loop: a snapshot
//   protocol::WorkResult mine = replay.compute(input);          // anywhere: raven::Error when it cannot
//
// The input is a snapshot (the version's weights are shared, not copied), so a replay runs on the
// coordinator's pool while the event loop moves the job on. It owns its CPU backend (the job's own
// model and optimizer keep theirs, with their own kernel mode), one model per job loaded with the
// weights of the version last replayed, and a bounded cache of decoded shards (ShardSampleCache):
// a replay reads no file for a shard it read recently. compute() and forgetJob() may be called from
// any thread; they take turns (one replay at a time per UnitReplay).
#include <QByteArray>

#include <map>
#include <memory>
#include <mutex>

#include "coordinator/JobRunner.h"
#include "coordinator/ShardSampleCache.h"
#include "cpu/CpuBackend.h"
#include "data/ShardStore.h"
#include "ledger/StoreTypes.h"
#include "protocol/GradientCodec.h"

namespace raven::coordinator {

// What a replay needs of its job, taken on the event loop.
struct ReplayInput {
    ledger::JobId job = 0;
    ledger::WorkUnit unit;
    QByteArray weights;  // of unit.modelVersion (implicitly shared with the runner's)
    std::string specJson;
    std::string specSha256;
    data::Manifest manifest;
    KernelMode kernelMode = KernelMode::Verifiable;
    wire::GradientEncoding encoding = wire::GRADIENT_ENCODING_FP32;  // of the results sent up

    // raven::Error when the runner no longer has the weights of the unit's version.
    static ReplayInput of(const JobRunner& runner, const ledger::WorkUnit& unit);
};

class UnitReplay {
public:
    static constexpr std::int64_t kDefaultShardCacheBytes = 256ll << 20;
    // `threads`: of the replay's own CPU backend (verifiable results do not depend on it).
    explicit UnitReplay(const data::ShardStore& shards, int threads = 1,
                        std::int64_t shardCacheBytes = kDefaultShardCacheBytes);
    ~UnitReplay();

    // `fresh`: on a model built anew (the third computation must not share the first's state).
    protocol::WorkResult compute(const ReplayInput& input, bool fresh = false);
    protocol::WorkResult compute(const JobRunner& runner, const ledger::WorkUnit& unit) {
        return compute(ReplayInput::of(runner, unit));
    }
    // The job ended: its model goes (waits for a replay in progress).
    void forgetJob(ledger::JobId job);
    const ShardSampleCache& shardCache() const { return cache_; }

private:
    struct LoadedModel {
        std::unique_ptr<nn::Model> model;
        qint64 version = -1;
    };
    std::mutex mutex_;  // one replay at a time: the backend and the models are not shared
    ShardSampleCache cache_;
    std::unique_ptr<CpuBackend> backend_;  // declared before the models: destroyed after their tensors
    std::map<ledger::JobId, LoadedModel> models_;
};

}  // namespace raven::coordinator
