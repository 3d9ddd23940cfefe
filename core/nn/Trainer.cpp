#include "nn/Trainer.h"

#include <algorithm>
#include <chrono>

#include "autograd/Ops.h"
#include "base/Error.h"
#include "data/Batch.h"
#include "data/Split.h"
#include "nn/GradClip.h"
#include "tensor/Backend.h"

namespace raven::nn {

namespace {
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct DeviceBatch {
    Tensor x;
    Tensor y;  // class ids as floats
    std::int64_t size = 0;
};

// One epoch's visiting order and where each batch starts in it.
struct EpochOrder {
    std::vector<std::int64_t> samples;
    std::vector<std::int64_t> batchStarts;  // plus samples.size() at the end
};

EpochOrder epochOrder(std::int64_t n, const TrainOptions& options, int epoch) {
    EpochOrder out;
    const std::uint64_t seed = options.shuffleSeed + static_cast<std::uint64_t>(epoch);
    const std::int64_t block = options.shuffleBlock;
    if (block <= 1) {
        out.samples = data::seededPermutation(n, seed);
        for (std::int64_t b = 0; b < n; b += options.batchSize) out.batchStarts.push_back(b);
    } else {
        const std::int64_t blocks = (n + block - 1) / block;
        const std::int64_t blocksPerBatch = options.batchSize / block;
        const std::vector<std::int64_t> blockOrder = data::seededPermutation(blocks, seed);
        out.samples.reserve(static_cast<std::size_t>(n));
        for (std::int64_t k = 0; k < blocks; ++k) {
            if (k % blocksPerBatch == 0) out.batchStarts.push_back(static_cast<std::int64_t>(out.samples.size()));
            const std::int64_t first = blockOrder[static_cast<std::size_t>(k)] * block;
            for (std::int64_t i = first; i < std::min(first + block, n); ++i) out.samples.push_back(i);
        }
    }
    out.batchStarts.push_back(n);
    return out;
}

DeviceBatch upload(const data::Batch& batch, Backend& backend) {
    DeviceBatch out;
    out.size = batch.size();
    out.x = backend.upload(batch.xShape, batch.x.data());
    std::vector<float> labels(batch.y.begin(), batch.y.end());
    out.y = backend.upload(batch.yShape, labels.data());
    return out;
}
}  // namespace

Trainer::Trainer(Model& model, const data::Dataset& dataset, TrainOptions options)
    : model_(model), dataset_(dataset), options_(std::move(options)) {
    RAVEN_CHECK(options_.epochs >= 1 && options_.batchSize >= 1, "training: epochs and batch size must be at least 1",
                "");
    RAVEN_CHECK(options_.shuffleBlock >= 1 && options_.batchSize % options_.shuffleBlock == 0,
                "training: the batch size " + std::to_string(options_.batchSize) +
                    " is not a multiple of the shuffle block " + std::to_string(options_.shuffleBlock),
                "choose a batch size of k * " + std::to_string(options_.shuffleBlock) + " samples");
    RAVEN_CHECK(!dataset_.train.empty(), "training: dataset " + dataset_.name + " has no training samples", "");
    RAVEN_CHECK(dataset_.featureShape() == model_.architecture().inputShape(),
                "training: dataset " + dataset_.name + " has samples " + data::shapeString(dataset_.featureShape()) +
                    " but model " + model_.spec().name + " takes " + shapeText(model_.architecture().inputShape()),
                "change the spec's \"input\" shape or add a reshape layer");
    if (model_.spec().loss.kind == LossKind::CrossEntropy) {
        const std::int64_t outputs = model_.architecture().outputShape().back();
        RAVEN_CHECK(static_cast<std::int64_t>(dataset_.classes.size()) <= outputs,
                    "training: dataset " + dataset_.name + " has " + std::to_string(dataset_.classes.size()) +
                        " classes but model " + model_.spec().name + " predicts " + std::to_string(outputs),
                    "set the last layer's size (and an embedding's num_embeddings) to at least the class count");
    }
    optimizer_ = makeOptimizer(options_.optimizer, model_.parameterNames());
    if (options_.schedule) {
        options_.schedule->base = options_.optimizer.lr;
        options_.schedule->validate();
    }
}

void Trainer::setOptimizer(std::unique_ptr<Optimizer> optimizer) {
    RAVEN_CHECK(optimizer && optimizer->parameterNames() == model_.parameterNames(),
                "training: the optimizer was made for other parameters than model " + model_.spec().name, "");
    optimizer_ = std::move(optimizer);
}

TrainSummary Trainer::run() {
    TrainSummary summary;
    const data::Samples& train = dataset_.train;
    const std::int64_t n = options_.trainSamples > 0 ? std::min(options_.trainSamples, train.count()) : train.count();
    double trainSeconds = 0.0;
    std::int64_t trainedSamples = 0;
    bool done = false;
    for (int epoch = 0; epoch < options_.epochs && !done; ++epoch) {
        model_.train();
        const EpochOrder order = epochOrder(n, options_, epoch);
        EpochSummary epochSummary;
        epochSummary.epoch = epoch;
        const auto epochStart = Clock::now();
        auto reportStart = epochStart;
        Tensor epochLoss, reportLoss;
        std::int64_t epochBatches = 0, reportBatches = 0, reportSamples = 0, epochSamples = 0;
        for (std::size_t b = 0; b + 1 < order.batchStarts.size(); ++b) {
            const std::int64_t begin = order.batchStarts[b];
            const std::int64_t size = order.batchStarts[b + 1] - begin;
            const data::Batch batch = data::makeBatch(
                train, std::span<const std::int64_t>(order.samples.data() + begin, static_cast<std::size_t>(size)),
                dataset_.normalization);
            const DeviceBatch device = upload(batch, model_.backend());
            if (options_.schedule) optimizer_->setLearningRate(options_.schedule->at(optimizer_->stepCount()));
            model_.zeroGrad();
            const Variable loss = model_.loss(model_.forward(device.x), device.y);
            loss.backward();
            std::vector<Tensor> grads = model_.gradients();
            if (options_.clipNorm > 0.0) clipGradNorm(grads, options_.clipNorm);
            optimizer_->step(model_.parameterTensors(), grads);
            const Tensor lossValue = loss.tensor();
            epochLoss = epochLoss.defined() ? add(epochLoss, lossValue) : lossValue;
            reportLoss = reportLoss.defined() ? add(reportLoss, lossValue) : lossValue;
            ++epochBatches;
            ++reportBatches;
            reportSamples += size;
            epochSamples += size;
            const bool last =
                begin + size >= n || (options_.maxSteps > 0 && optimizer_->stepCount() >= options_.maxSteps);
            if (onProgress && (reportBatches >= options_.progressInterval || last)) {
                TrainProgress p;
                p.epoch = epoch;
                p.step = optimizer_->stepCount();
                p.epochSamples = epochSamples;
                p.epochSize = n;
                p.loss = reportLoss.item() / static_cast<double>(reportBatches);  // the sync point
                p.samplesPerSecond = static_cast<double>(reportSamples) / std::max(secondsSince(reportStart), 1e-9);
                p.learningRate = optimizer_->learningRate();
                onProgress(p);
                reportLoss = Tensor();
                reportBatches = 0;
                reportSamples = 0;
                reportStart = Clock::now();
            }
            if (options_.maxSteps > 0 && optimizer_->stepCount() >= options_.maxSteps) {
                done = true;
                break;
            }
        }
        epochSummary.trainLoss = epochLoss.item() / static_cast<double>(epochBatches);
        epochSummary.seconds = secondsSince(epochStart);
        epochSummary.samplesPerSecond = static_cast<double>(epochSamples) / std::max(epochSummary.seconds, 1e-9);
        trainSeconds += epochSummary.seconds;
        trainedSamples += epochSamples;
        if (options_.evaluateEachEpoch && !dataset_.test.empty()) {
            epochSummary.test = evaluate(dataset_.test, options_.evalSamples);
            summary.test = epochSummary.test;
        }
        if (onEpoch) onEpoch(epochSummary);
        summary.epochs.push_back(epochSummary);
    }
    summary.steps = optimizer_->stepCount();
    summary.samplesPerSecond = static_cast<double>(trainedSamples) / std::max(trainSeconds, 1e-9);
    return summary;
}

EvalResult Trainer::evaluate(const data::Samples& samples, std::int64_t limit) {
    const bool wasTraining = model_.isTraining();
    model_.eval();
    NoGradGuard noGrad;
    const std::int64_t n = limit > 0 ? std::min(limit, samples.count()) : samples.count();
    EvalResult result;
    double lossSum = 0.0;
    std::int64_t correct = 0, predictions = 0;
    for (std::int64_t begin = 0; begin < n; begin += options_.batchSize) {
        const std::int64_t size = std::min(options_.batchSize, n - begin);
        const data::Batch batch = data::makeBatch(samples, begin, size, dataset_.normalization);
        const DeviceBatch device = upload(batch, model_.backend());
        const Variable logits = model_.forward(device.x);
        const std::int64_t rows = static_cast<std::int64_t>(batch.y.size());
        lossSum += static_cast<double>(model_.loss(logits, device.y).item()) * static_cast<double>(rows);
        const std::vector<float> values = logits.toVector();
        const std::int64_t classes = logits.size(-1);
        for (std::int64_t r = 0; r < rows; ++r) {
            const float* row = values.data() + r * classes;
            const std::int64_t best = std::max_element(row, row + classes) - row;
            correct += best == batch.y[static_cast<std::size_t>(r)] ? 1 : 0;
        }
        predictions += rows;
    }
    result.samples = n;
    result.loss = predictions ? lossSum / static_cast<double>(predictions) : 0.0;
    result.accuracy = predictions ? static_cast<double>(correct) / static_cast<double>(predictions) : 0.0;
    model_.train(wasTraining);
    return result;
}

}  // namespace raven::nn
