#include "nn/ModelSpec.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cmath>
#include <set>

#include "base/Error.h"
#include "nn/LayerRegistry.h"

namespace raven::nn {

void specError(const std::string& origin, const std::string& place, const std::string& problem,
               const std::string& hint) {
    std::string message = "model spec " + origin + ": ";
    if (!place.empty()) message += place + ": ";
    raven::fail(message + problem, hint);
}

std::string toString(InitScheme scheme) {
    switch (scheme) {
        case InitScheme::KaimingUniform:
            return "kaiming_uniform";
        case InitScheme::KaimingNormal:
            return "kaiming_normal";
        case InitScheme::XavierUniform:
            return "xavier_uniform";
    }
    return "?";
}

InitScheme initSchemeFromString(const std::string& s, const std::string& where) {
    for (InitScheme scheme : {InitScheme::KaimingUniform, InitScheme::KaimingNormal, InitScheme::XavierUniform})
        if (toString(scheme) == s) return scheme;
    raven::fail(where + ": unknown init scheme \"" + s + "\"",
                "use kaiming_uniform (PyTorch's default), kaiming_normal or xavier_uniform");
}

namespace {

bool isIdentifier(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!alpha(s[0])) return false;
    for (char c : s)
        if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
    return true;
}

void checkKeys(const QJsonObject& obj, const std::set<QString>& allowed, const std::string& origin,
               const std::string& place) {
    for (auto it = obj.begin(); it != obj.end(); ++it)
        if (!allowed.count(it.key()))
            specError(origin, place, "unknown field \"" + it.key().toStdString() + "\"",
                      "see docs/model-spec.md for the fields");
}

std::vector<LayerSpec> parseLayers(const QJsonValue& value, const std::string& origin, const std::string& parent) {
    const std::string where = parent.empty() ? std::string("layers") : parent + ": field \"layers\"";
    if (!value.isArray() || value.toArray().isEmpty())
        specError(origin, "", where + " must be a non-empty list of layers");
    std::vector<LayerSpec> layers;
    std::set<std::string> names;
    const QJsonArray arr = value.toArray();
    for (qsizetype i = 0; i < arr.size(); ++i) {
        std::string place = (parent.empty() ? "" : parent + " > ") + "layers[" + std::to_string(i) + "]";
        if (!arr[i].isObject()) specError(origin, place, "must be an object with \"name\" and \"kind\"");
        const QJsonObject obj = arr[i].toObject();
        LayerSpec layer;
        if (!obj.value("name").isString())
            specError(origin, place, "field \"name\" is required (a string)",
                      "name every layer: parameters are called <name>.weight, <name>.bias");
        layer.name = obj.value("name").toString().toStdString();
        place += " \"" + layer.name + "\"";
        if (!isIdentifier(layer.name))
            specError(origin, place,
                      "field \"name\": must be an identifier (letters, digits, _; not starting "
                      "with a digit; at most 64 characters)");
        if (!names.insert(layer.name).second)
            specError(origin, place,
                      "field \"name\": another layer at this level is already called \"" + layer.name + "\"");
        if (!obj.value("kind").isString()) specError(origin, place, "field \"kind\" is required (a string)");
        layer.kind = obj.value("kind").toString().toStdString();
        if (!isLayerKind(layer.kind))
            specError(origin, place, "field \"kind\": unknown layer kind \"" + layer.kind + "\"",
                      "known kinds: " + layerKindList());
        layer.place = place + " (" + layer.kind + ")";
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            if (it.key() == "name" || it.key() == "kind" || it.key() == "layers") continue;
            layer.fields.insert(it.key(), it.value());
        }
        const bool container = isContainerKind(layer.kind);
        if (container) {
            layer.layers = parseLayers(obj.value("layers"), origin, layer.place);
        } else if (obj.contains("layers")) {
            specError(origin, layer.place, "field \"layers\": only a residual block holds layers");
        }
        layers.push_back(std::move(layer));
    }
    return layers;
}

}  // namespace

ModelSpec ModelSpec::parse(const std::string& json, const std::string& origin) {
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json), &error);
    if (error.error != QJsonParseError::NoError)
        raven::fail("model spec " + origin + ": not valid JSON at byte " + std::to_string(error.offset) + ": " +
                        error.errorString().toStdString(),
                    "check the brackets and commas near that place");
    if (!doc.isObject()) raven::fail("model spec " + origin + ": the top level must be a JSON object");
    const QJsonObject root = doc.object();
    checkKeys(root, {"name", "description", "input", "layers", "loss", "init"}, origin, "");

    ModelSpec spec;
    spec.origin = origin;
    spec.json = json;
    spec.name = root.value("name").toString("model").toStdString();

    // --- input ---
    if (!root.value("input").isObject())
        specError(origin, "input", "is required: an object {\"shape\": [...]} giving one sample's shape",
                  "e.g. \"input\": {\"shape\": [1, 28, 28]}");
    const QJsonObject input = root.value("input").toObject();
    checkKeys(input, {"shape"}, origin, "input");
    const QJsonValue shape = input.value("shape");
    if (!shape.isArray() || shape.toArray().isEmpty())
        specError(origin, "input", "field \"shape\": must be a non-empty list of positive sizes");
    for (const QJsonValue& v : shape.toArray()) {
        const double d = v.toDouble(-1);
        if (!v.isDouble() || d < 1 || d != std::floor(d) || d > 1e9)
            specError(origin, "input", "field \"shape\": sizes must be positive integers");
        spec.inputShape.push_back(static_cast<std::int64_t>(d));
    }

    spec.layers = parseLayers(root.value("layers"), origin, "");

    // --- loss ---
    if (root.contains("loss")) {
        if (!root.value("loss").isObject()) specError(origin, "loss", "must be an object {\"kind\": ...}");
        const QJsonObject loss = root.value("loss").toObject();
        checkKeys(loss, {"kind", "label_smoothing"}, origin, "loss");
        const std::string kind = loss.value("kind").toString("cross_entropy").toStdString();
        if (kind == "cross_entropy") {
            spec.loss.kind = LossKind::CrossEntropy;
        } else if (kind == "mse") {
            spec.loss.kind = LossKind::MeanSquaredError;
        } else {
            specError(origin, "loss", "field \"kind\": unknown loss \"" + kind + "\"", "use cross_entropy or mse");
        }
        if (loss.contains("label_smoothing")) {
            const QJsonValue s = loss.value("label_smoothing");
            if (spec.loss.kind != LossKind::CrossEntropy)
                specError(origin, "loss", "field \"label_smoothing\": only cross_entropy takes it");
            if (!s.isDouble() || !(s.toDouble() >= 0.0 && s.toDouble() < 1.0))
                specError(origin, "loss", "field \"label_smoothing\": must be a number in [0, 1)");
            spec.loss.labelSmoothing = static_cast<float>(s.toDouble());
        }
    }

    // --- init ---
    if (root.contains("init")) {
        if (!root.value("init").isObject()) specError(origin, "init", "must be an object {\"scheme\", \"seed\"}");
        const QJsonObject init = root.value("init").toObject();
        checkKeys(init, {"scheme", "seed"}, origin, "init");
        if (init.contains("scheme")) {
            if (!init.value("scheme").isString()) specError(origin, "init", "field \"scheme\": must be a string");
            spec.init.scheme = initSchemeFromString(init.value("scheme").toString().toStdString(),
                                                    "model spec " + origin + ": init: field \"scheme\"");
        }
        if (init.contains("seed")) {
            const double d = init.value("seed").toDouble(-1);
            if (!init.value("seed").isDouble() || d < 0 || d != std::floor(d) || d > 9.0e15)
                specError(origin, "init", "field \"seed\": must be a non-negative integer");
            spec.init.seed = static_cast<std::uint64_t>(d);
        }
    }
    return spec;
}

ModelSpec ModelSpec::load(const std::string& path) {
    QFile file(QString::fromStdString(path));
    if (!file.open(QIODevice::ReadOnly))
        raven::fail("model spec " + path + ": cannot be read: " + file.errorString().toStdString(),
                    "check the path (examples/ holds mlp.json, cnn.json and transformer.json)");
    return parse(file.readAll().toStdString(), path);
}

}  // namespace raven::nn
