#include "checkpoint/Checkpoint.h"

#include <QJsonDocument>
#include <charconv>

#include "base/Error.h"

namespace raven {
namespace {

bool isJsonObject(const std::string& text) {
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(QByteArray::fromStdString(text), &error);
    return error.error == QJsonParseError::NoError && document.isObject();
}

// A whole non-negative decimal number, or -1.
std::int64_t parseCount(const std::string& text) {
    std::int64_t value = -1;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty() || value < 0) return -1;
    return value;
}

}  // namespace

std::string Checkpoint::optimizerStateName(std::string_view parameter, std::string_view slot) {
    return std::string(parameter) + "." + std::string(slot);
}

SafeTensors Checkpoint::toSafeTensors() const {
    RAVEN_CHECK(!spec.empty(), "a checkpoint needs the model spec", "set Checkpoint::spec to the model's JSON spec");
    RAVEN_CHECK(isJsonObject(spec), "the checkpoint's model spec is not a JSON object",
                "pass the spec's JSON text unchanged");
    RAVEN_CHECK(optimizer.empty() || isJsonObject(optimizer),
                "the checkpoint's optimizer hyperparameters are not a JSON object",
                "describe the optimizer as a JSON object, e.g. {\"type\": \"adam\", \"lr\": 0.001}");
    RAVEN_CHECK(optimizerState.size() == 0 || !optimizer.empty(),
                "the checkpoint has optimizer state but no optimizer hyperparameters",
                "set Checkpoint::optimizer to describe the optimizer that the state belongs to");
    RAVEN_CHECK(step >= 0, "a checkpoint's step cannot be negative (" + std::to_string(step) + ")",
                "pass the number of optimizer steps taken");

    SafeTensors tensors;
    tensors.metadata = extraMetadata;
    tensors.metadata["format"] = std::string(kFormatName);
    tensors.metadata["version"] = std::to_string(kFormatVersion);
    tensors.metadata["spec"] = spec;
    tensors.metadata["step"] = std::to_string(step);
    if (!optimizer.empty()) tensors.metadata["optimizer"] = optimizer;

    for (const NamedArray& parameter : parameters.arrays()) {
        RAVEN_CHECK(!parameter.name.starts_with(kOptimizerStatePrefix),
                    "parameter '" + parameter.name + "' starts with '" + std::string(kOptimizerStatePrefix) +
                        "', which checkpoints reserve for optimizer state",
                    "rename the layer in the model spec");
        tensors.put(parameter);
    }
    for (const NamedArray& state : optimizerState.arrays()) {
        NamedArray prefixed = state;
        prefixed.name = std::string(kOptimizerStatePrefix) + state.name;
        tensors.put(std::move(prefixed));
    }
    return tensors;
}

Checkpoint Checkpoint::fromSafeTensors(const SafeTensors& tensors, const std::string& source) {
    const auto metadataValue = [&](const std::string& key) -> const std::string* {
        const auto it = tensors.metadata.find(key);
        return it == tensors.metadata.end() ? nullptr : &it->second;
    };
    const auto failCheckpoint = [&](const std::string& what, const std::string& hint) {
        fail("'" + source + "' is not a valid Raven checkpoint: " + what, hint);
    };
    const std::string corruptHint = "the file was damaged or edited; use another checkpoint";

    const std::string* format = metadataValue("format");
    if (!format || *format != kFormatName)
        failCheckpoint(format ? "its metadata says format \"" + *format + "\", not \"raven-checkpoint\""
                              : "it has no \"format\" metadata (plain weights, e.g. saved by PyTorch?)",
                       "to load weights alone, read the file with SafeTensors::read");
    const std::string* versionText = metadataValue("version");
    const std::int64_t version = versionText ? parseCount(*versionText) : -1;
    if (version < 1) failCheckpoint("its \"version\" metadata is missing or not a positive integer", corruptHint);
    RAVEN_CHECK(version <= kFormatVersion,
                "'" + source + "' is a version " + *versionText +
                    " Raven checkpoint, written by a newer Raven; this Raven reads versions up to " +
                    std::to_string(kFormatVersion),
                "upgrade Raven to load it");

    Checkpoint checkpoint;
    const std::string* spec = metadataValue("spec");
    if (!spec || !isJsonObject(*spec))
        failCheckpoint("its \"spec\" metadata is missing or not a JSON object", corruptHint);
    checkpoint.spec = *spec;
    const std::string* step = metadataValue("step");
    checkpoint.step = step ? parseCount(*step) : -1;
    if (checkpoint.step < 0) failCheckpoint("its \"step\" metadata is missing or not a whole number", corruptHint);
    if (const std::string* optimizer = metadataValue("optimizer")) {
        if (!isJsonObject(*optimizer)) failCheckpoint("its \"optimizer\" metadata is not a JSON object", corruptHint);
        checkpoint.optimizer = *optimizer;
    }
    for (const auto& [key, value] : tensors.metadata)
        if (key != "format" && key != "version" && key != "spec" && key != "step" && key != "optimizer")
            checkpoint.extraMetadata[key] = value;

    for (const NamedArray& array : tensors.arrays()) {
        if (array.name.starts_with(kOptimizerStatePrefix)) {
            NamedArray state = array;
            state.name.erase(0, kOptimizerStatePrefix.size());
            checkpoint.optimizerState.put(std::move(state));
        } else {
            checkpoint.parameters.put(array);
        }
    }
    if (checkpoint.optimizerState.size() != 0 && checkpoint.optimizer.empty())
        failCheckpoint("it has optimizer state but no \"optimizer\" metadata", corruptHint);
    return checkpoint;
}

Checkpoint Checkpoint::read(const std::string& path) { return fromSafeTensors(SafeTensors::read(path), path); }

void Checkpoint::write(const std::string& path) const { toSafeTensors().write(path); }

}  // namespace raven
