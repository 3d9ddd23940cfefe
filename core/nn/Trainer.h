#pragma once
// Trainer: trains a Model on a Dataset on this machine (`raven train --local`), and evaluates it.
//
//   nn::Model model(nn::ModelSpec::load("examples/mlp.json"));
//   data::Dataset ds = data::importIdxDirectory("/usr/share/datasets/fashion-mnist");
//   nn::TrainOptions options;                       // Adam, lr 1e-3, batch 128, 1 epoch
//   options.epochs = 5;
//   nn::Trainer trainer(model, ds, options);
//   trainer.onProgress = [](const nn::TrainProgress& p) { ... p.loss, p.samplesPerSecond ... };
//   nn::TrainSummary summary = trainer.run();      // test loss and accuracy after every epoch
//
// Batches come from data::makeBatch, so the dataset's normalization applies. Each epoch visits the
// training split in a seeded order (data::seededPermutation(n, shuffleSeed + epoch), or of blocks
// with shuffleBlock); the last short batch is kept. Two tasks, told apart by the dataset's label shape:
//  - classification: labels [] (one class per sample), logits [B, C];
//  - language model: labels [T] (the next token at every position), logits [B, T, V]; loss and
//    accuracy are over all positions.
// Loss values stay on the backend between progress reports (no sync per step); evaluation reads
// logits back to count correct predictions.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "data/Dataset.h"
#include "nn/LrSchedule.h"
#include "nn/Model.h"
#include "nn/Optimizer.h"

namespace raven::nn {

struct TrainOptions {
    int epochs = 1;
    std::int64_t batchSize = 128;
    std::uint64_t shuffleSeed = 1;
    // > 1: shuffle blocks of this many consecutive samples instead of single samples, and cut each
    // batch from whole blocks (batchSize must be a multiple). With the dataset's shard size this
    // visits the same batches as a distributed job with the same seed (training/StepPlan.h).
    std::int64_t shuffleBlock = 1;
    OptimizerConfig optimizer;           // Adam, lr 1e-3
    std::optional<LrSchedule> schedule;  // its base replaced by optimizer.lr; constant when absent
    double clipNorm = 0.0;               // > 0: clip gradients to this global norm
    std::int64_t maxSteps = 0;           // > 0: stop after this many optimizer steps
    std::int64_t trainSamples = 0;       // > 0: train on the first n training samples only
    std::int64_t evalSamples = 0;        // > 0: evaluate on the first n test samples only
    std::int64_t progressInterval = 50;  // steps between progress reports
    bool evaluateEachEpoch = true;
};

struct TrainProgress {
    int epoch = 0;                  // 0-based
    std::int64_t step = 0;          // optimizer steps so far
    std::int64_t epochSamples = 0;  // samples seen in this epoch
    std::int64_t epochSize = 0;     // samples per epoch
    double loss = 0.0;              // mean training loss since the previous report
    double samplesPerSecond = 0.0;  // since the previous report
    double learningRate = 0.0;
};

struct EvalResult {
    double loss = 0.0;      // mean over samples (positions, for a language model)
    double accuracy = 0.0;  // fraction of argmax predictions equal to the label
    std::int64_t samples = 0;
};

struct EpochSummary {
    int epoch = 0;
    double trainLoss = 0.0;  // mean over the epoch's batches
    double seconds = 0.0;    // training time (evaluation excluded)
    double samplesPerSecond = 0.0;
    std::optional<EvalResult> test;
};

struct TrainSummary {
    std::vector<EpochSummary> epochs;
    std::int64_t steps = 0;
    double samplesPerSecond = 0.0;   // over all training time
    std::optional<EvalResult> test;  // the last evaluation
};

class Trainer {
public:
    // The model and dataset must outlive the trainer. Throws a raven::Error when the dataset's sample
    // shape does not match the spec's input, or the options are invalid.
    Trainer(Model& model, const data::Dataset& dataset, TrainOptions options);

    std::function<void(const TrainProgress&)> onProgress;
    std::function<void(const EpochSummary&)> onEpoch;

    TrainSummary run();
    // Loss and accuracy on `samples` (at most `limit` of them when > 0), in evaluation mode, no graph.
    EvalResult evaluate(const data::Samples& samples, std::int64_t limit = 0);

    Optimizer& optimizer() { return *optimizer_; }
    // Replaces the optimizer, e.g. one restored from a checkpoint.
    void setOptimizer(std::unique_ptr<Optimizer> optimizer);

private:
    Model& model_;
    const data::Dataset& dataset_;
    TrainOptions options_;
    std::unique_ptr<Optimizer> optimizer_;
};

}  // namespace raven::nn
