#pragma once
// ModelDocument: the model spec being edited (docs/model-spec.md), one source of truth for the
// layer form and the JSON editor, checked at once against the chosen dataset.
//
//   ModelDocument doc;
//   doc.setDataset(manifest);                     // sample shape and classes to fit
//   doc.loadTemplate(ModelTemplate::Cnn);          // examples/cnn.json, fitted to the dataset
//   doc.setLayerField(3, "out_channels", 16);      // the form edits; changed() tells the JSON view
//   doc.check().problem                            // "" or what is wrong, doc.check().layer where
//
// Every edit re-checks: the spec's structure (ModelSpec::parse), every layer against its input shape
// (nn::Architecture), then the fit with the dataset: the input shape must be the samples' shape and
// the output must give one score per class. A problem names the top-level layer it is at, so the
// form marks that row. The summary (per layer: output shape, parameters, FLOPs per sample, activation
// memory) comes from the same Architecture.
#include <QJsonArray>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>
#include <optional>
#include <vector>

#include "data/Manifest.h"

namespace raven::console {

enum class ModelTemplate { Mlp, Cnn, TransformerLm };
QStringList modelTemplateNames();  // in enum order

struct LayerSummary {
    QString name, kind;
    QString outputShape;  // "[32,28,28]"
    std::int64_t parameters = 0;
    double flops = 0;                  // forward, per sample (inner layers included)
    std::int64_t activationBytes = 0;  // float32 output of one sample
};

struct ModelCheck {
    QString problem;                   // empty: the spec is valid and fits the dataset
    int layer = -1;                    // the top-level layer the problem is at; -1: the spec as a whole
    std::vector<LayerSummary> layers;  // when the spec builds
    std::int64_t parameters = 0;
    double forwardFlops = 0;  // per sample
    std::int64_t activationBytes = 0;
    bool ok() const { return problem.isEmpty(); }
};

class ModelDocument : public QObject {
    Q_OBJECT
public:
    explicit ModelDocument(QObject* parent = nullptr);

    // The JSON text of the spec (indented), what is uploaded.
    QString text() const;
    // Replaces the spec from JSON text (the JSON editor). Text that is not a JSON object keeps the
    // last good spec and sets jsonProblem() (with the line); the form stays as it was.
    void setText(const QString& text);
    const QString& jsonProblem() const { return jsonProblem_; }
    // Reads a spec file; raven::Error when it cannot be read.
    void open(const QString& path);
    void loadTemplate(ModelTemplate which);

    // The dataset the spec must fit; none: only the spec's own checks.
    void setDataset(const std::optional<data::Manifest>& manifest);
    // Sets the input shape, the vocabulary of embeddings and the last linear layer's outputs from the
    // dataset (what a template needs to fit it).
    void fitToDataset();
    const std::optional<data::Manifest>& dataset() const { return dataset_; }

    QString name() const;
    int layerCount() const;
    QJsonObject layer(int index) const;
    // The layer's own fields as compact JSON ({"out": 256}), without name, kind and inner layers.
    QString layerFieldsText(int index) const;
    void setLayerName(int index, const QString& name);
    void setLayerKind(int index, const QString& kind);
    // Replaces the fields from compact JSON text; false (and nothing changes) when it is not an object.
    bool setLayerFieldsText(int index, const QString& json);
    void setLayerField(int index, const QString& field, const QJsonValue& value);
    void insertLayer(int index, const QJsonObject& layer);
    void removeLayer(int index);
    void moveLayer(int from, int to);

    const ModelCheck& check() const { return check_; }

signals:
    // The spec changed (from the form or the text); `fromText` when setText() did it, so that the
    // JSON editor does not rewrite what the person is typing.
    void changed(bool fromText);
    // The layers were inserted, removed or moved (the form resets its rows).
    void layersRearranged();

private:
    void replaceLayers(const QJsonArray& layers, bool rearranged);
    void fitTemplateToDataset();
    void recheck();
    void commit(bool fromText);

    QJsonObject spec_;
    QString jsonProblem_;
    std::optional<data::Manifest> dataset_;
    ModelCheck check_;
};

}  // namespace raven::console
