#pragma once
// Sharding: from a Dataset to content-addressed shards plus a Manifest, and back.
//
//   ShardStore store("/var/lib/raven/shards");
//   Manifest m = publishDataset(ds, store);          // writes shards, returns the sealed manifest
//   m.save("fashion-mnist.manifest.json");
//   Dataset again = loadDataset(Manifest::load("fashion-mnist.manifest.json"), store);  // == ds
//
// Each split is cut in order into shards of shardSize samples (the last one may be smaller). The
// result is deterministic: the same dataset gives the same shard names and the same dataset id.
#include "data/Dataset.h"
#include "data/Manifest.h"
#include "data/ShardStore.h"

#include <functional>

namespace raven::data {

inline constexpr std::int64_t kDefaultShardSize = 32;

Manifest publishDataset(const Dataset& dataset, ShardStore& store, std::int64_t shardSize = kDefaultShardSize);
// The same, telling `progress` after each shard the shards written so far and in all (train and
// test); an exception thrown by `progress` (a cancelled import) stops the publishing and propagates.
using ShardProgress = std::function<void(std::int64_t written, std::int64_t total)>;
Manifest publishDataset(const Dataset& dataset, ShardStore& store, std::int64_t shardSize,
                        const ShardProgress& progress);

// The samples of one shard of the manifest, verified by hash and checked against the manifest's
// shapes, element type and count (what a contributor does for each work unit).
Samples loadShardSamples(const Manifest& manifest, const ShardRef& shard, const ShardStore& store);

// The whole dataset back from its shards.
Dataset loadDataset(const Manifest& manifest, const ShardStore& store);

}  // namespace raven::data
