#include "ModelDocument.h"

#include <QFile>
#include <QJsonDocument>
#include <QRegularExpression>
#include <algorithm>
#include <functional>

#include "base/Error.h"
#include "nn/Architecture.h"
#include "nn/ModelSpec.h"

namespace raven::console {

QStringList modelTemplateNames() {
    return {QObject::tr("MLP (multilayer perceptron)"), QObject::tr("CNN (convolutional network)"),
            QObject::tr("Small transformer language model")};
}

namespace {

QString shapeText(const std::vector<std::int64_t>& shape) { return QString::fromStdString(nn::shapeText(shape)); }

QJsonArray shapeJson(const std::vector<std::int64_t>& shape) {
    QJsonArray a;
    for (auto d : shape) a.append(qint64(d));
    return a;
}

// Parameters and FLOPs of a layer and everything inside it.
void addUp(const nn::Layer& layer, std::int64_t& parameters, double& flops) {
    for (const auto& p : layer.parameters()) parameters += data::elementCount(p.shape);
    flops += layer.forwardFlops();
    for (const nn::Layer* child : layer.children()) addUp(*child, parameters, flops);
}

// "layers[3] \"fc\" (linear): ..." names the top-level layer at index 3.
int layerIndexIn(const QString& message) {
    const auto m = QRegularExpression(R"(layers\[(\d+)\])").match(message);
    return m.hasMatch() ? m.captured(1).toInt() : -1;
}

}  // namespace

ModelDocument::ModelDocument(QObject* parent) : QObject(parent) { loadTemplate(ModelTemplate::Mlp); }

QString ModelDocument::text() const { return QString::fromUtf8(QJsonDocument(spec_).toJson(QJsonDocument::Indented)); }

void ModelDocument::setText(const QString& text) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        const int line = int(text.left(error.offset).count('\n')) + 1;
        jsonProblem_ = error.error != QJsonParseError::NoError
                           ? tr("JSON line %1: %2").arg(line).arg(error.errorString())
                           : tr("the spec must be a JSON object ({ … })");
        emit changed(true);
        return;
    }
    jsonProblem_.clear();
    spec_ = doc.object();
    commit(true);
    emit layersRearranged();
}

void ModelDocument::open(const QString& path) {
    QFile file(path);
    RAVEN_CHECK(file.open(QIODevice::ReadOnly),
                "cannot read " + path.toStdString() + ": " + file.errorString().toStdString(), "choose another file");
    setText(QString::fromUtf8(file.readAll()));
}

void ModelDocument::loadTemplate(ModelTemplate which) {
    static const char* files[] = {":/templates/mlp.json", ":/templates/cnn.json", ":/templates/transformer.json"};
    QFile file(QString::fromLatin1(files[int(which)]));
    file.open(QIODevice::ReadOnly);
    spec_ = QJsonDocument::fromJson(file.readAll()).object();
    jsonProblem_.clear();
    fitTemplateToDataset();
    commit(false);
    emit layersRearranged();
}

// A template is written for Fashion-MNIST (or a 128-character vocabulary); fit its input, vocabulary
// and output to the chosen dataset so that it is valid at once.
void ModelDocument::fitTemplateToDataset() {
    if (!dataset_) return;
    const auto& m = *dataset_;
    const qint64 classes = qint64(m.classes.size());
    QJsonObject input = spec_["input"].toObject();
    input["shape"] = shapeJson(m.featureShape);
    spec_["input"] = input;
    QJsonArray layers = spec_["layers"].toArray();
    for (int i = 0; i < layers.size(); ++i) {
        QJsonObject l = layers[i].toObject();
        const QString kind = l["kind"].toString();
        if (kind == "embedding") l["num_embeddings"] = classes;
        if (kind == "positional_embedding" && !m.featureShape.empty()) l["max_length"] = qint64(m.featureShape[0]);
        if (i == layers.size() - 1 && kind == "linear" && classes > 0) l["out"] = classes;
        layers[i] = l;
    }
    spec_["layers"] = layers;
}

void ModelDocument::fitToDataset() {
    fitTemplateToDataset();
    commit(false);
    emit layersRearranged();
}

void ModelDocument::setDataset(const std::optional<data::Manifest>& manifest) {
    dataset_ = manifest;
    commit(false);
}

QString ModelDocument::name() const { return spec_["name"].toString(); }
int ModelDocument::layerCount() const { return int(spec_["layers"].toArray().size()); }
QJsonObject ModelDocument::layer(int index) const { return spec_["layers"].toArray().at(index).toObject(); }

QString ModelDocument::layerFieldsText(int index) const {
    QJsonObject fields = layer(index);
    fields.remove("name");
    fields.remove("kind");
    fields.remove("layers");
    return QString::fromUtf8(QJsonDocument(fields).toJson(QJsonDocument::Compact));
}

void ModelDocument::setLayerName(int index, const QString& name) { setLayerField(index, "name", name); }
void ModelDocument::setLayerKind(int index, const QString& kind) { setLayerField(index, "kind", kind); }

bool ModelDocument::setLayerFieldsText(int index, const QString& json) {
    const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8());
    if (!doc.isObject()) return false;
    const QJsonObject old = layer(index);
    QJsonObject l = doc.object();
    for (const char* kept : {"name", "kind", "layers"})
        if (old.contains(kept)) l[kept] = old[kept];
    QJsonArray layers = spec_["layers"].toArray();
    layers[index] = l;
    replaceLayers(layers, false);
    return true;
}

void ModelDocument::setLayerField(int index, const QString& field, const QJsonValue& value) {
    QJsonArray layers = spec_["layers"].toArray();
    if (index < 0 || index >= layers.size()) return;
    QJsonObject l = layers[index].toObject();
    l[field] = value;
    layers[index] = l;
    replaceLayers(layers, false);
}

void ModelDocument::insertLayer(int index, const QJsonObject& l) {
    QJsonArray layers = spec_["layers"].toArray();
    layers.insert(std::clamp(index, 0, int(layers.size())), l);
    replaceLayers(layers, true);
}

void ModelDocument::removeLayer(int index) {
    QJsonArray layers = spec_["layers"].toArray();
    if (index < 0 || index >= layers.size()) return;
    layers.removeAt(index);
    replaceLayers(layers, true);
}

void ModelDocument::moveLayer(int from, int to) {
    QJsonArray layers = spec_["layers"].toArray();
    if (from < 0 || from >= layers.size() || to < 0 || to >= layers.size() || from == to) return;
    const QJsonValue moved = layers.takeAt(from);
    layers.insert(to, moved);
    replaceLayers(layers, true);
}

void ModelDocument::replaceLayers(const QJsonArray& layers, bool rearranged) {
    spec_["layers"] = layers;
    jsonProblem_.clear();
    commit(false);
    if (rearranged) emit layersRearranged();
}

void ModelDocument::commit(bool fromText) {
    recheck();
    emit changed(fromText);
}

void ModelDocument::recheck() {
    check_ = {};
    try {
        const nn::ModelSpec spec =
            nn::ModelSpec::parse(QJsonDocument(spec_).toJson().toStdString(), name().toStdString());
        const nn::Architecture arch(spec);
        for (const auto& layerPtr : arch.layers()) {
            LayerSummary row;
            row.name = QString::fromStdString(layerPtr->name());
            row.kind = QString::fromStdString(layerPtr->kind());
            row.outputShape = shapeText(layerPtr->outputShape());
            addUp(*layerPtr, row.parameters, row.flops);
            row.activationBytes = data::elementCount(layerPtr->outputShape()) * std::int64_t(sizeof(float));
            check_.parameters += row.parameters;
            check_.forwardFlops += row.flops;
            check_.activationBytes += row.activationBytes;
            check_.layers.push_back(row);
        }
        if (!dataset_) return;
        const auto& m = *dataset_;
        if (spec.inputShape != m.featureShape) {
            check_.problem = tr("The model takes samples of shape %1, but the dataset's samples are %2: set the "
                                "input shape to %2.")
                                 .arg(shapeText(spec.inputShape), shapeText(m.featureShape));
            return;
        }
        const qint64 classes = qint64(m.classes.size());
        const auto& out = arch.outputShape();
        const qint64 scores = out.empty() ? 1 : qint64(out.back());
        const bool languageModel = !m.labelShape.empty();
        if ((languageModel && scores < classes) || (!languageModel && (out.size() != 1 || scores != classes))) {
            check_.layer = int(arch.layers().size()) - 1;
            check_.problem = languageModel
                                 ? tr("The last layer gives %1 scores per position, but the vocabulary has %2 "
                                      "tokens: give it at least %2 outputs.")
                                       .arg(scores)
                                       .arg(classes)
                                 : tr("The last layer gives %1 outputs, but the dataset has %2 classes: give it "
                                      "%2 outputs (\"out\": %2), one score per class.")
                                       .arg(shapeText(out))
                                       .arg(classes);
        }
    } catch (const Error& e) {
        check_.problem = QString::fromStdString(e.message());
        if (!e.hint().empty()) check_.problem += "\n" + QString::fromStdString(e.hint());
        check_.layer = layerIndexIn(check_.problem);
    }
}

}  // namespace raven::console
