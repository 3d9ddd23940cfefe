#pragma once
// JobRunner: one running job's arithmetic: its model and optimizer (CPU backend), its step plan
// over the dataset's shards, the accepted gradients of the step in progress, and the state file
// that makes all of it survive a crash.
//
//   JobRunner runner(job, config, specJson, manifest, shards, files);   // loads state.safetensors
//   store.addWorkUnits(job.id, runner.version(), runner.unitsOfCurrentStep(2));
//   ... each accepted result: runner.saveResult(unit, result) BEFORE LeaseBook::acceptResult ...
//   StepReport r = runner.applyStep(store.workUnits(job.id, runner.version()));   // version + 1, on disk
//   store.setJobModelVersion(job.id, runner.version(), now);
//   runner.removeResults(stepUnits);
//
// The coordinator does both halves off its event loop (Engine, GroupCommit): each resultFile() is
// written in batches by a worker thread, then keepResult(); applyStep() is prepareStep() on the
// event loop, computeStep() on a worker thread (sum, optimizer, state file), finishStep() back on
// the event loop. Between prepareStep() and finishStep() only the StepWork touches the model and
// optimizer; version() and weights() stay those of V until finishStep().
//
// Model version V = optimizer steps taken = the step whose units are being computed. The state file
// holds version V's weights, optimizer state and step count (nn::toCheckpoint with the optimizer);
// it is replaced atomically and fsynced before the store hears of V + 1, so after a crash the file
// is the truth and the store is corrected from it (Engine). Results are averaged in unit id order,
// so the new weights do not depend on the order results arrived in. They are summed as they are
// accepted (sumAccepted(), OrderedGradientSum.h), each freed once summed; the step only finishes
// the sum. An int8-down job serves the published lineage P (checkpoint/WeightsDelta.h) as its
// weights: published-V.safetensors is written before the state file moves to V, the one before
// removed after it.
#include <QByteArray>
#include <QList>
#include <QStringList>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "coordinator/JobConfig.h"
#include "coordinator/JobFiles.h"
#include "coordinator/OrderedGradientSum.h"
#include "coordinator/RewindArchive.h"
#include "coordinator/TestEvaluation.h"
#include "data/Manifest.h"
#include "data/ShardStore.h"
#include "ledger/StoreTypes.h"
#include "nn/Model.h"
#include "nn/Optimizer.h"
#include "nn/Trainer.h"
#include "protocol/GradientCodec.h"
#include "training/StepPlan.h"

namespace raven::coordinator {

struct StepReport {
    qint64 step = 0;                            // steps taken now (the new model version)
    double trainLoss = 0.0;                     // mean loss over the step's samples
    double accuracy = 0.0;                      // fraction of the step's samples predicted correctly
    std::int64_t samples = 0;                   // in the step
    double learningRate = 0.0;                  // the rate the step was taken with (the schedule's)
    QList<ledger::ContributorId> contributors;  // who computed the step's units
    // For a job with robust aggregation: how the step's units were judged (RobustAggregation.h).
    struct Robust {
        double medianDistance = 0.0;
        double radius = 0.0;
        int clippedUnits = 0;
        QList<ledger::WorkUnitId> outlierUnits;
        QList<ledger::ContributorId> outlierContributors;  // one entry per outlier unit
        // Every unit's contributor and whether it was an outlier, in unit id order (OutlierStrikes.h).
        QList<std::pair<ledger::ContributorId, bool>> judged;
    };
    std::optional<Robust> robust;
};

// A step between prepareStep() and finishStep(): all computeStep() needs, owned, so that it runs on
// another thread (and survives the runner being retired meanwhile).
struct StepWork {
    ledger::JobId job = 0;
    qint64 version = 0;  // the step taken: V -> V + 1
    std::shared_ptr<nn::Model> model;
    std::shared_ptr<nn::Optimizer> optimizer;
    std::vector<float> gradientSum;  // of the step's results, added in unit id order
    std::int64_t divisor = 0;        // the mean is gradientSum / divisor: the step's samples, or its lanes
    // A job with robust aggregation: the step's results in id order, combined by computeStep()
    // into gradientSum (RobustAggregation.h).
    std::optional<RobustOptions> robust;
    std::vector<std::pair<ledger::WorkUnitId, StoredResult>> robustInputs;
    StepReport report;  // all but `step`, filled by prepareStep()
    QString statePath;
    // A stale job (LocalStepsConfig.h): V's weights, written to roundWeightsPath before the state
    // file holds V + 1 (the lanes of round V + 1 start from them); the file of V - 1 goes after.
    QByteArray roundWeights;
    QString roundWeightsPath;
    QString oldRoundWeightsPath;
    // A job that replays results keeps V's state for a rewind (RewindArchive.h) before V + 1 replaces it.
    std::optional<RewindArchive> archive;
    // An int8-down job (checkpoint/WeightsDelta.h): P(V), the key of the delta to V + 1, and the files
    // of P(V + 1) (written before the state file) and of P(V) (removed after it).
    QByteArray publishedBase;
    std::uint64_t publishKey = 0;
    QString publishedPath;
    QString oldPublishedPath;
    // Whether V + 1's weights go out before its state file is durable (JobRunner::leasesAhead()).
    bool weightsAhead = false;
    // A step taken ahead of its last acceptance (JobRunner::takeStepAhead()): `model` and `optimizer`
    // are the runner's spares (made from these when it has none), which copyStateAhead() fills with
    // the runner's state of V before computeWeights() steps them.
    std::shared_ptr<const nn::Model> modelOfV;
    std::shared_ptr<const nn::Optimizer> optimizerOfV;
};
// What a rewind did (ModelRewind.h), for the step's metrics line.
struct RewindSummary {
    qint64 from = -1;    // the first version recomputed; -1: every suspect result matched, nothing rewound
    int checked = 0;     // suspect results replayed
    int replaced = 0;    // of which differed: replaced by the coordinator's own
    int recomputed = 0;  // units computed again by the coordinator (the replaced and the later steps')
    double seconds = 0.0;
};
// What computeStep() made: V + 1's state is durable in the state file; these are its weights.
struct StepProduct {
    StepReport report;
    QByteArray weights;  // parameters and buffers of V + 1, as weights() serves them
    // An int8-down job: `weights` is P(V + 1); the delta from P(V) and the SHA-256 (hex) of `weights`.
    QByteArray weightsDelta;
    std::string weightsSha256;
    // A rewind's product (ModelRewind.h): the model and optimizer it recomputed replace the runner's.
    std::shared_ptr<nn::Model> model;
    std::shared_ptr<nn::Optimizer> optimizer;
    std::optional<RewindSummary> rewind;
};

class JobRunner {
public:
    // Loads the state file, or writes the initial state (the spec's seeded init) when there is none
    // and `storeVersion` is 0. raven::Error when the spec, the plan or the state file is unusable.
    JobRunner(const ledger::Job& job, JobConfig config, std::string specJson, data::Manifest manifest,
              const data::ShardStore& shards, JobFiles files, qint64 storeVersion);
    ~JobRunner();

    ledger::JobId id() const { return id_; }
    const JobConfig& config() const { return config_; }
    const std::string& specJson() const { return specJson_; }
    const data::Manifest& manifest() const { return manifest_; }
    const JobFiles& files() const { return files_; }
    const training::StepPlan& plan() const { return plan_; }
    qint64 version() const { return version_; }
    qint64 totalSteps() const { return plan_.totalSteps(); }
    bool planDone() const { return version_ >= plan_.totalSteps(); }
    std::int64_t parameterCount() const { return parameterCount_; }
    const nn::Architecture& architecture() const { return model_->architecture(); }

    // The current step's units: its shards in plan order, at most `shardsPerUnit` per unit, each
    // priced at samples * training FLOPs per sample.
    QList<ledger::NewWorkUnit> unitsOfCurrentStep(std::int64_t shardsPerUnit) const {
        return unitsOfStep(version_, shardsPerUnit);
    }
    QList<ledger::NewWorkUnit> unitsOfStep(qint64 step, std::int64_t shardsPerUnit) const;

    // Bounded staleness (LocalStepsConfig.h): 0 for every job but a stale local-steps one.
    std::int64_t staleness() const { return config_.localSteps ? config_.localSteps->staleness : 0; }
    // The weights version that the units of step (round) `step` are computed on: the unit's
    // model_version on the wire, what FetchWeights serves it.
    qint64 weightsVersionOf(qint64 step) const {
        return config_.localSteps ? config_.localSteps->weightsVersionOfRound(step) : step;
    }
    // The step whose units are leased now: the current one, or for a stale job whose step is being
    // applied, the next (its units were added when the current one's were all in).
    qint64 leasedStep() const { return stepping_ && (staleness() > 0 || aheadWeights_) ? version_ + 1 : version_; }
    // Whether a result of a unit of step `step` counts now: the current step's, and the next one's
    // while a stale job's step is applied, or once a step's new weights are out (publishAhead()).
    bool takesResultsOf(qint64 step) const { return step == version_ || (step == leasedStep() && step < totalSteps()); }
    // Samples in these training shards; raven::Error for a hash the manifest does not list.
    std::int64_t samplesOf(const QStringList& shardHashes) const;
    // Predictions one sample's result counts: 1 for a class label, one per element of a sequence label
    // (the character model predicts each next character), so accuracy is correct / (samples x this).
    std::int64_t predictionsPerSample() const;

    // Parameters and buffers of a version (safetensors, as nn::toCheckpoint(model) writes them):
    // what FetchWeights serves. Only the current and the previous version are kept; else nullptr.
    // A stale job reads the previous one back from its round-weights file after a restart.
    const QByteArray* weights(qint64 version) const;
    // An int8-down job (JobConfig::int8WeightsDown): what a worker holding weights(version - 1) gets
    // instead of weights(version): the int8 delta and the SHA-256 (hex) of the weights it makes.
    // Kept for the versions weights() serves, and not after a restart (workers then get the whole weights).
    struct WeightsDelta {
        qint64 baseVersion = 0;
        QByteArray delta;
        std::string weightsSha256;
    };
    const WeightsDelta* weightsDelta(qint64 version) const;

    // Keeps an accepted result on disk (fsynced) until its step is applied, and in memory, so that
    // the step sums it without reading it back (after a restart it is read from disk once).
    void saveResult(ledger::WorkUnitId unit, ledger::ContributorId contributor, const protocol::WorkResult& result);
    // saveResult() in two halves, for group commit: the result's one file (ResultFile.h) as its path
    // and pieces, to be written by writeDurably() (any thread), then keepResult() once it is durable.
    // `sha256` is the payload's hash as received (recorded, never recomputed). The gradient piece is
    // `result`'s own memory (no copy): write it while `result` lives.
    static std::pair<QString, QByteArrayList> resultFile(const JobFiles& files, ledger::WorkUnitId unit,
                                                         ledger::ContributorId contributor,
                                                         const protocol::WorkResult& result, const QString& sha256);
    void keepResult(ledger::WorkUnitId unit, ledger::ContributorId contributor, protocol::WorkResult&& result);
    void discardResult(ledger::WorkUnitId unit);
    bool hasResult(ledger::WorkUnitId unit) const;
    StoredResult loadResult(ledger::WorkUnitId unit) const;
    // Result files of units not in `keep` (left over from a step applied just before a crash), and
    // every temporary: for start-up, when no write is under way.
    void removeResultsExcept(const QList<ledger::WorkUnitId>& keep);
    // While serving: forgets the kept results of units not in `keep` and names their files (their
    // temporaries too; a kept unit's is a write under way), for the caller to delete off the event
    // loop. Only the files there now are named: a result written afterwards (another unit, another
    // name) is not.
    QStringList releaseResultsExcept(const QList<ledger::WorkUnitId>& keep);
    // Adds the accepted results that continue the running sum of the current step (`units`: its
    // units in id order, as the store has them now); each is freed once summed. A result accepted
    // before its predecessors stays kept until they are summed.
    void sumAccepted(const QList<ledger::WorkUnit>& units);
    // Results accepted and not yet summed (waiting for a predecessor), and summed, this step.
    std::size_t keptCount() const { return kept_.size(); }
    std::size_t summedCount() const { return sum_->summed(); }

    // Steps the optimizer on the mean gradient of `units` (all done, all of the current version, in
    // id order) and writes the new state durably. raven::Error when a result is missing or the units
    // do not cover the step's samples.
    StepReport applyStep(const QList<ledger::WorkUnit>& units);
    // applyStep() in three parts (see the top). prepareStep() takes the results and checks them
    // (raven::Error as applyStep); computeStep() is a pure function of the work (the same bits as
    // applyStep) that writes the state file and may run on any thread (raven::Error when the step is
    // not finite); finishStep() makes V + 1 this runner's version.
    StepWork prepareStep(const QList<ledger::WorkUnit>& units);
    // `weightsReady`, when the work goes ahead (StepWork::weightsAhead), is called (on the computing
    // thread) with V + 1's weights the moment they exist, before the state file is written.
    static StepProduct computeStep(StepWork& work, const std::function<void(const QByteArray&)>& weightsReady = {});
    // computeStep() in its two halves: the step's arithmetic up to V + 1's weights (and, for an
    // int8-down job, P(V + 1) durable), then V + 1's state file. A coordinator whose weights go ahead
    // sends the grants between the two: on a coordinator held to one core, the state file's
    // serialization and write (~3 ms of CPU for the MLP) ran beside the grants and delayed them.
    static StepProduct computeWeights(StepWork& work);
    static void writeStepState(StepWork& work);
    // A step taken ahead of its last result's acceptance (docs/coordinator.md, "The step ahead of its
    // last acceptance"): while that result is made durable and paid, V + 1's weights are computed on
    // copies of the model and optimizer, and they are taken only once the store has accepted it.
    // The work when `result` (checked, not yet durable), of the last of `units` (the step's units in
    // id order), completes a step whose other results are all summed; nullopt when it does
    // not, or the job does not lease ahead. The sum is finished here (one pass over the gradient, so
    // that `result` may go before the work is computed); the runner's state is untouched.
    struct LastResult {
        ledger::WorkUnitId unit = 0;
        ledger::ContributorId contributor = 0;
        std::int64_t samples = 0;
        double lossSum = 0.0;
        std::int64_t correct = 0;
        std::span<const float> gradient;  // the caller's memory, read here only
    };
    std::optional<StepWork> takeStepAhead(const QList<ledger::WorkUnit>& units, const LastResult& result);
    // The spares double the memory a job's model and optimizer take on the coordinator (three times
    // the parameters, with Adam). What a step ahead saves (a few ms a step) counts where steps are
    // short, that is for small models: larger ones are not taken ahead.
    static constexpr std::int64_t kMaxParametersAhead = 16'000'000;
    // On any thread, before computeWeights(): the work's model and optimizer become copies of V's.
    static void copyStateAhead(StepWork& work);
    // The step taken ahead, its result now accepted (`units` all done): its stepped model and
    // optimizer become the runner's (V's become the spares), and the step is being applied, as after
    // prepareStep(); computeWeights() is not run again. raven::Error when `work` is not of this
    // version or its units.
    void adoptStepAhead(StepWork& work, const QList<ledger::WorkUnit>& units, ledger::WorkUnitId unit);
    StepReport finishStep(StepProduct&& product);
    // A synchronous job's step need not wait for its state file to lease the next one. V + 1 is a
    // pure function of V's state and V's results, which stay durable until V + 1's state is: a crash
    // before it recomputes the same bits, so units computed on V + 1's weights before the crash
    // count after it. Not for a stale job (its own lead, LocalStepsConfig.h), an int8-down one (P(V + 1)
    // is made durable first) or one that replays results (a rewind replaces applied steps).
    bool leasesAhead() const;
    // V + 1's weights, from computeStep()'s `weightsReady`: served from now on, and V + 1's units are
    // leased (leasedStep()) and their results taken while V's state file is written.
    void publishAhead(QByteArray weights);
    bool stepping() const { return stepping_; }
    // A rewind of a job whose plan is done (ModelRewind.h): its recomputed version replaces the
    // current one, which keeps its number.
    void adoptRewound(StepProduct&& product);

    // Whether a caught contributor's unchecked results can be rewound out of this job: one whose
    // results are replayed (verifiable, or fast and spot-checked), not a local-steps job.
    bool rewindable() const;
    RewindArchive archive() const { return RewindArchive(files_); }

    // Loss and accuracy of the current version on the test split (nullopt when the dataset has none).
    std::optional<nn::EvalResult> evaluate();
    // The same with a model of its own, for a worker thread (TestEvaluation.h).
    const std::shared_ptr<TestEvaluation>& testEvaluation() const { return testEvaluation_; }
    // Writes v<version>.safetensors (model + optimizer) and keeps the newest three; returns the path.
    QString writeCheckpoint();

private:
    struct StepTotals {
        std::int64_t samples = 0;
        double lossSum = 0.0;
        std::int64_t correct = 0;
    };
    StepTotals takeForRobustCombination(const QList<ledger::WorkUnit>& units, StepWork& work);
    // prepareStep()'s report, rate and files of the step, once its totals are known.
    void describeStep(const StepTotals& totals, std::int64_t units, StepWork& work) const;
    static void combineRobustly(StepWork& work);
    void writeState();
    // The accepted result of a unit from memory (moved out), or from disk after a restart.
    StoredResult takeResult(ledger::WorkUnitId unit);
    QByteArray currentWeights() const;
    bool aheadWeights_ = false;  // V + 1's weights published while V's step is being applied
    // An int8-down job's P(version_) from its file (P(0): the initial weights); stray files removed.
    QByteArray loadPublished() const;

    ledger::JobId id_;
    JobConfig config_;
    std::string specJson_;
    data::Manifest manifest_;
    const data::ShardStore& shards_;
    JobFiles files_;
    training::StepPlan plan_;
    std::shared_ptr<nn::Model> model_;  // shared with a StepWork while a step is computed
    std::shared_ptr<nn::Optimizer> optimizer_;
    // Taken by a step ahead (takeStepAhead()), given back as V's once it is adopted.
    std::shared_ptr<nn::Model> spareModel_;
    std::shared_ptr<nn::Optimizer> spareOptimizer_;
    bool stepping_ = false;
    std::int64_t parameterCount_ = 0;
    double flopsPerSample_ = 0.0;
    qint64 version_ = 0;
    std::map<QString, std::int64_t> samplesByShard_;
    std::map<qint64, QByteArray> weights_;             // the current version and the one before (P for int8 down)
    std::map<qint64, WeightsDelta> deltas_;            // int8 down: of the versions in weights_, by version
    std::map<ledger::WorkUnitId, StoredResult> kept_;  // accepted results of the current step not yet summed
    std::unique_ptr<OrderedGradientSum> sum_;          // the current step's running sum
    std::shared_ptr<TestEvaluation> testEvaluation_;
};

}  // namespace raven::coordinator
