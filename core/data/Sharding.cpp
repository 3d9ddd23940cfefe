#include "data/Sharding.h"

#include "base/Error.h"
#include "data/FileBytes.h"

namespace raven::data {

namespace {

std::int64_t shardCount(const Samples& samples, std::int64_t shardSize) {
    return (samples.count() + shardSize - 1) / shardSize;
}

SplitManifest publishSplit(const Samples& samples, ElementType type, ShardStore& store, std::int64_t shardSize,
                           const std::function<void()>& written) {
    SplitManifest split;
    split.samples = samples.count();
    for (std::int64_t begin = 0; begin < samples.count(); begin += shardSize) {
        const auto n = std::min(shardSize, samples.count() - begin);
        split.shards.push_back({store.put(encodeShard(samples.slice(begin, n), type)), n});
        if (written) written();
    }
    return split;
}

Samples loadSplit(const Manifest& m, const SplitManifest& split, const ShardStore& store) {
    Samples out(m.featureShape, m.labelShape);
    std::vector<float> x;
    std::vector<std::int32_t> y;
    x.reserve(static_cast<std::size_t>(split.samples * out.featureSize()));
    y.reserve(static_cast<std::size_t>(split.samples * out.labelSize()));
    for (const auto& ref : split.shards) {
        const Samples s = loadShardSamples(m, ref, store);
        x.insert(x.end(), s.allFeatures().begin(), s.allFeatures().end());
        y.insert(y.end(), s.allLabels().begin(), s.allLabels().end());
    }
    out.assign(std::move(x), std::move(y));
    return out;
}

}  // namespace

Manifest publishDataset(const Dataset& dataset, ShardStore& store, std::int64_t shardSize) {
    return publishDataset(dataset, store, shardSize, {});
}

Manifest publishDataset(const Dataset& dataset, ShardStore& store, std::int64_t shardSize,
                        const ShardProgress& progress) {
    RAVEN_CHECK(shardSize > 0, "shard size " + std::to_string(shardSize) + " is not positive",
                "use e.g. 32 samples per shard");
    dataset.validate("dataset '" + dataset.name + "'");
    Manifest m;
    m.name = dataset.name;
    m.featureShape = dataset.featureShape();
    m.labelShape = dataset.labelShape();
    m.elementType = dataset.elementType;
    m.classes = dataset.classes;
    m.normalization = dataset.normalization;
    m.shardSize = shardSize;
    const std::int64_t total = shardCount(dataset.train, shardSize) + shardCount(dataset.test, shardSize);
    std::int64_t done = 0;
    const std::function<void()> written = [&] {
        if (progress) progress(++done, total);
    };
    m.train = publishSplit(dataset.train, dataset.elementType, store, shardSize, written);
    m.test = publishSplit(dataset.test, dataset.elementType, store, shardSize, written);
    m.seal();
    return m;
}

Samples loadShardSamples(const Manifest& m, const ShardRef& ref, const ShardStore& store) {
    Shard shard = store.load(ref.hash);
    const std::string origin = "shard " + str(ref.hash.left(8)) + "... in " + str(store.directory());
    RAVEN_CHECK(shard.samples.featureShape() == m.featureShape && shard.samples.labelShape() == m.labelShape,
                origin + " holds samples of shape " + shapeString(shard.samples.featureShape()) + " -> " +
                    shapeString(shard.samples.labelShape()) + " but dataset '" + m.name + "' has " +
                    shapeString(m.featureShape) + " -> " + shapeString(m.labelShape),
                "the shard belongs to another dataset: check the manifest and the store");
    RAVEN_CHECK(shard.elementType == m.elementType && shard.samples.count() == ref.samples,
                origin + " holds " + std::to_string(shard.samples.count()) + " " + toString(shard.elementType) +
                    " samples but the manifest lists " + std::to_string(ref.samples) + " " + toString(m.elementType),
                "the manifest and the shard disagree: re-import the dataset");
    for (auto y : shard.samples.allLabels())
        RAVEN_CHECK(y >= 0 && y < static_cast<std::int32_t>(m.classes.size()),
                    origin + " holds label " + std::to_string(y) + " but dataset '" + m.name + "' has " +
                        std::to_string(m.classes.size()) + " classes",
                    "the shard belongs to another dataset: check the manifest and the store");
    return std::move(shard.samples);
}

Dataset loadDataset(const Manifest& m, const ShardStore& store) {
    Dataset ds;
    ds.name = m.name;
    ds.classes = m.classes;
    ds.normalization = m.normalization;
    ds.elementType = m.elementType;
    ds.train = loadSplit(m, m.train, store);
    ds.test = loadSplit(m, m.test, store);
    return ds;
}

}  // namespace raven::data
