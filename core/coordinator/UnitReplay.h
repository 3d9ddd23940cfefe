#pragma once
// UnitReplay: the coordinator computes a work unit itself, exactly as an honest worker does
// (training::computeGradientSums over the unit's shards in its order, at the unit's model version,
// with the job's kernel mode), so that a contributor's result can be compared with it by digest.
//
//   UnitReplay replay(shards);
//   protocol::WorkResult mine = replay.compute(runner, unit);   // raven::Error when it cannot
//
// It owns its CPU backend (the job's own model and optimizer keep theirs, with their own kernel
// mode) and one model per job, loaded with the weights of the version being replayed. Only versions
// the runner still serves (the current and the previous) can be replayed.
#include <map>
#include <memory>

#include "coordinator/JobRunner.h"
#include "cpu/CpuBackend.h"
#include "data/ShardStore.h"
#include "ledger/StoreTypes.h"
#include "protocol/GradientCodec.h"

namespace raven::coordinator {

class UnitReplay {
public:
    // `threads`: of the replay's own CPU backend (verifiable results do not depend on it).
    explicit UnitReplay(const data::ShardStore& shards, int threads = 1);
    ~UnitReplay();

    protocol::WorkResult compute(const JobRunner& runner, const ledger::WorkUnit& unit);
    // The job ended: its model goes.
    void forgetJob(ledger::JobId job) { models_.erase(job); }

private:
    struct LoadedModel {
        std::unique_ptr<nn::Model> model;
        qint64 version = -1;
    };
    const data::ShardStore& shards_;
    std::unique_ptr<CpuBackend> backend_;  // declared first: destroyed after the models' tensors
    std::map<ledger::JobId, LoadedModel> models_;
};

}  // namespace raven::coordinator
