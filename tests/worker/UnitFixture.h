#pragma once
// Work units made by hand, as a coordinator would make them: a dataset published into shards, a
// model's weights as the safetensors bytes FetchWeights carries, and a WorkUnit naming them.
#include <QTemporaryDir>

#include <span>

#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "data/Sharding.h"
#include "nn/Model.h"
#include "nn/ModelCheckpoint.h"
#include "protocol/Chunking.h"
#include "protocol/GradientCodec.h"
#include "worker/UnitComputer.h"

namespace raven::testing {

// What FetchWeights carries for a model: its parameters and buffers, no optimizer.
inline QByteArray weightsBytes(const nn::Model& model) {
    const std::vector<std::byte> bytes = nn::toCheckpoint(model).toSafeTensors().toBytes();
    return QByteArray(reinterpret_cast<const char*>(bytes.data()), static_cast<qsizetype>(bytes.size()));
}

inline wire::WorkUnit makeUnit(const std::string& id, const data::Manifest& manifest, const std::string& specJson,
                               const std::vector<data::ShardRef>& shards, std::uint64_t version = 0,
                               wire::GradientEncoding encoding = wire::GRADIENT_ENCODING_FP32, bool zstd = false) {
    wire::WorkUnit unit;
    unit.set_id(id);
    unit.set_job_id("9");
    unit.set_model_version(version);
    for (const data::ShardRef& s : shards) unit.add_shard_hashes(s.hash.toStdString());
    unit.set_model_spec_json(specJson);
    unit.set_model_spec_sha256(protocol::sha256Hex(QByteArray::fromStdString(specJson)).toStdString());
    unit.set_dataset_id(manifest.id.toStdString());
    unit.set_gradient_encoding(encoding);
    unit.set_gradient_zstd(zstd);
    unit.set_local_steps(1);
    return unit;
}

inline worker::UnitInputs makeInputs(const wire::WorkUnit& unit, const std::shared_ptr<const data::Manifest>& manifest,
                                     const data::ShardStore& store, const QByteArray& weights) {
    worker::UnitInputs in;
    in.unit = unit;
    in.manifest = manifest;
    for (const std::string& hash : unit.shard_hashes()) {
        const QString name = QString::fromStdString(hash);
        in.shards.push_back(worker::decodeVerifiedShard(name, store.read(name)));  // read() checks the hash
    }
    in.weights = std::make_shared<const QByteArray>(weights);
    return in;
}

// The decoded float gradient and totals of a computed unit.
inline protocol::WorkResult decodeResult(const worker::ComputedUnit& done, std::uint64_t parameters) {
    protocol::ResultAssembler assembler(parameters);
    for (const wire::SubmitResult& part : done.parts) assembler.add(part);
    RAVEN_CHECK(assembler.complete(), "the result's parts do not complete it", "");
    return assembler.result();
}

}  // namespace raven::testing
