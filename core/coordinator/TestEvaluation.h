#pragma once
// TestEvaluation: a job's loss and accuracy on its dataset's test split, computed with a model of its
// own, so that it can run on a worker thread while the job's model steps (JobRunner::computeStep) and
// the event loop serves the next step's units.
//
//   TestEvaluation evaluation(specJson, manifest, shards);
//   evaluation.loadTestSamples();                             // on the thread that owns `shards`
//   auto result = evaluation.evaluate(*runner.weights(v));    // any thread, one call at a time
//
// The weights are those JobRunner::weights() serves (parameters and buffers of one version), so the
// figures are those of that version whatever the job's model does meanwhile.
#include <QByteArray>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "data/Manifest.h"
#include "data/Samples.h"
#include "data/ShardStore.h"
#include "nn/Model.h"
#include "nn/Trainer.h"

namespace raven::coordinator {

class TestEvaluation {
public:
    TestEvaluation(std::string specJson, data::Manifest manifest, const data::ShardStore& shards);
    ~TestEvaluation();

    bool hasTestSplit() const { return !manifest_.test.shards.empty(); }
    // Reads and decodes the test split (once). On the thread that owns the shard store; evaluate()
    // does it itself when it was not done. raven::Error when a shard is missing or damaged.
    void loadTestSamples();
    // Loss and accuracy of `weights` on the test split (nullopt when the dataset has none). Any
    // thread; concurrent calls take turns. raven::Error when the weights do not fit the model.
    std::optional<nn::EvalResult> evaluate(const QByteArray& weights);

private:
    std::string specJson_;
    data::Manifest manifest_;
    const data::ShardStore& shards_;
    std::mutex mutex_;
    std::unique_ptr<nn::Model> model_;     // built on first use
    std::optional<data::Samples> test_;    // loaded once
};

}  // namespace raven::coordinator
