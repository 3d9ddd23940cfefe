#include "worker/UnitMemory.h"

#include <exception>
#include <unordered_map>

#include "nn/Architecture.h"
#include "nn/ModelSpec.h"

namespace raven::worker {

namespace {

double elements(const nn::Shape& shape) {
    double n = 1;
    for (std::int64_t d : shape) n *= static_cast<double>(d);
    return n;
}

}  // namespace

std::int64_t unitMemoryBytes(const wire::WorkUnit& unit, const data::Manifest& manifest) {
    try {
        const nn::Architecture arch(nn::ModelSpec::parse(unit.model_spec_json(), "work unit " + unit.id()));
        double parameters = 0;
        for (const nn::ParameterInfo& p : arch.parameters()) parameters += elements(p.decl.shape);
        double activations = elements(arch.inputShape());
        for (const nn::Layer* layer : arch.allLayers()) activations += elements(layer->outputShape());
        std::unordered_map<std::string, std::int64_t> samplesOf;
        for (const data::ShardRef& ref : manifest.train.shards) samplesOf.emplace(ref.hash.toStdString(), ref.samples);
        double samples = 0;
        for (const std::string& hash : unit.shard_hashes()) {
            const auto it = samplesOf.find(hash);
            if (it != samplesOf.end()) samples += static_cast<double>(it->second);
        }
        return static_cast<std::int64_t>(4.0 * 4.0 * parameters + 2.0 * 4.0 * activations * samples);
    } catch (const std::exception&) {
        return -1;  // the computation will say what is wrong with the spec
    }
}

}  // namespace raven::worker
