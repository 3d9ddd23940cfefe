#include "ModelExport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "checkpoint/Checkpoint.h"

namespace raven::console {

namespace {
std::string compact(const QJsonValue& v) {
    const QJsonDocument doc = v.isArray() ? QJsonDocument(v.toArray()) : QJsonDocument(v.toObject());
    return doc.toJson(QJsonDocument::Compact).toStdString();
}
template <typename T>
QJsonArray array(const std::vector<T>& values) {
    QJsonArray a;
    for (const auto& v : values) {
        if constexpr (std::is_same_v<T, std::string>)
            a.append(QString::fromStdString(v));
        else
            a.append(double(v));
    }
    return a;
}
}  // namespace

std::map<std::string, std::string> preprocessingMetadata(const data::Manifest& dataset) {
    return {{"raven.dataset", dataset.name},
            {"raven.input_shape", compact(array(dataset.featureShape))},
            {"raven.classes", compact(array(dataset.classes))},
            {"raven.normalization",
             compact(QJsonObject{{"kind", QString::fromStdString(data::toString(dataset.normalization.kind))},
                                 {"mean", array(dataset.normalization.mean)},
                                 {"std", array(dataset.normalization.std)}})}};
}

void exportModel(const QString& checkpointPath, const data::Manifest& dataset, const QString& outPath) {
    Checkpoint c = Checkpoint::read(checkpointPath.toStdString());
    // The model only: the optimizer's state is for resuming training, and doubles or triples the file.
    c.optimizer.clear();
    c.optimizerState = {};
    for (const auto& [key, value] : preprocessingMetadata(dataset)) c.extraMetadata[key] = value;
    c.write(outPath.toStdString());
}

}  // namespace raven::console
