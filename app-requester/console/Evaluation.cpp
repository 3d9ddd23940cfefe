#include "Evaluation.h"

#include <QDir>
#include <QStringList>
#include <algorithm>

#include "autograd/Variable.h"
#include "base/Error.h"
#include "data/Batch.h"
#include "data/Sharding.h"
#include "nn/ModelCheckpoint.h"
#include "tensor/Backend.h"

namespace raven::console {

double Evaluation::precision(int c) const {
    std::int64_t predicted = 0;
    for (const auto& row : confusion) predicted += row[std::size_t(c)];
    return predicted ? double(confusion[std::size_t(c)][std::size_t(c)]) / double(predicted) : 0.0;
}

double Evaluation::recall(int c) const {
    std::int64_t actual = 0;
    for (auto n : confusion[std::size_t(c)]) actual += n;
    return actual ? double(confusion[std::size_t(c)][std::size_t(c)]) / double(actual) : 0.0;
}

Evaluation evaluateCheckpoint(const QString& checkpointPath, const QString& datasetPath,
                              const std::atomic_bool& cancelled) {
    const data::Manifest manifest = data::Manifest::load(QDir(datasetPath).filePath("manifest.json"));
    RAVEN_CHECK(manifest.labelShape.empty(), "a confusion matrix needs one class per sample",
                "this dataset labels sequences (a language model); its accuracy is on the job's charts");
    const data::Dataset ds = data::loadDataset(manifest, data::ShardStore(QDir(datasetPath).filePath("shards")));
    auto model = nn::loadModel(checkpointPath.toStdString());
    model->eval();
    NoGradGuard noGrad;

    Evaluation e;
    const std::size_t n = manifest.classes.size();
    for (const auto& c : manifest.classes) e.classes << QString::fromStdString(c);
    e.confusion.assign(n, std::vector<std::int64_t>(n, 0));
    e.cellSamples.assign(n, std::vector<std::vector<std::int64_t>>(n));
    const std::int64_t total = ds.test.count();
    constexpr std::int64_t kBatch = 256;
    std::int64_t correct = 0;
    for (std::int64_t begin = 0; begin < total; begin += kBatch) {
        if (cancelled) fail("the evaluation was cancelled");
        const std::int64_t size = std::min(kBatch, total - begin);
        const data::Batch batch = data::makeBatch(ds.test, begin, size, ds.normalization);
        const Variable logits = model->forward(model->backend().upload(batch.xShape, batch.x.data()));
        const std::vector<float> values = logits.toVector();
        const std::int64_t scores = logits.size(-1);
        RAVEN_CHECK(scores >= std::int64_t(n), "the model gives fewer scores than the dataset has classes",
                    "evaluate it on the dataset it was trained on");
        for (std::int64_t r = 0; r < size; ++r) {
            const float* row = values.data() + r * scores;
            const auto predicted = std::size_t(std::max_element(row, row + n) - row);
            const auto truth = std::size_t(batch.y[std::size_t(r)]);
            ++e.confusion[truth][predicted];
            if (e.cellSamples[truth][predicted].size() < 64) e.cellSamples[truth][predicted].push_back(begin + r);
            correct += truth == predicted ? 1 : 0;
        }
    }
    e.samples = total;
    e.accuracy = total ? double(correct) / double(total) : 0.0;
    return e;
}

}  // namespace raven::console
