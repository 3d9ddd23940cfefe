#pragma once
// A small seeded classification dataset (three classes of 6-element vectors) for tests that need
// real shards but not Fashion-MNIST's size.
#include <cmath>
#include <memory>
#include <span>

#include "data/Dataset.h"
#include "nn/Trainer.h"

namespace raven::testing {

inline data::Dataset syntheticDataset(std::int64_t trainCount, std::int64_t testCount, std::uint64_t seed = 7) {
    data::Dataset ds;
    ds.name = "synthetic";
    ds.classes = {"a", "b", "c"};
    ds.elementType = data::ElementType::F32;
    ds.train = data::Samples({6}, {});
    ds.test = data::Samples({6}, {});
    std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
    auto next = [&] {  // splitmix64: the same values on every platform
        state += 0x9E3779B97F4A7C15ull;
        std::uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    auto fill = [&](data::Samples& s, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) {
            const auto label = static_cast<std::int32_t>(next() % 3);
            float x[6];
            for (int k = 0; k < 6; ++k) {
                const double u = static_cast<double>(next() >> 11) / 9007199254740992.0;
                x[k] = static_cast<float>(std::round((u - 0.5) * 64.0) / 16.0 + (k % 3 == label ? 1.5 : 0.0));
            }
            const std::int32_t y = label;
            s.append(std::span<const float>(x, 6), std::span<const std::int32_t>(&y, 1));
        }
    };
    fill(ds.train, trainCount);
    fill(ds.test, testCount);
    ds.normalization = data::Normalization::fit(ds.train, data::NormalizationKind::Global);
    return ds;
}

inline const char* kSyntheticMlpSpec = R"({
  "name": "synthetic-mlp",
  "input": {"shape": [6]},
  "layers": [
    {"name": "fc1", "kind": "linear", "out": 16},
    {"name": "relu1", "kind": "relu"},
    {"name": "fc2", "kind": "linear", "out": 3}
  ],
  "loss": {"kind": "cross_entropy"},
  "init": {"scheme": "kaiming_uniform", "seed": 3}
})";

// `raven train --local` of the synthetic MLP with the batches a distributed job visits (shuffleBlock =
// the shard size, 32; no evaluation): the reference the distributed tests compare with. `options`
// gives the epochs, batch size, seed, step limit and optimizer.
inline std::unique_ptr<nn::Model> trainSyntheticMlpLocally(const data::Dataset& dataset, nn::TrainOptions options) {
    auto model = std::make_unique<nn::Model>(nn::ModelSpec::parse(kSyntheticMlpSpec));
    options.shuffleBlock = 32;
    options.evaluateEachEpoch = false;
    nn::Trainer trainer(*model, dataset, options);
    trainer.run();
    return model;
}

}  // namespace raven::testing
