#pragma once
// ResultsService: a job's trained model brought home: the checkpoint downloaded (verified by
// SHA-256, written atomically; safetensors with PyTorch names) into <directory>, and evaluated on the
// dataset's test split off the GUI thread (Evaluation.h).
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <memory>

#include "Evaluation.h"

namespace raven::console {

class ConnectionService;

class ResultsService : public QObject {
    Q_OBJECT
public:
    ResultsService(ConnectionService& connection, QString directory, QObject* parent = nullptr);
    ~ResultsService() override;

    // The latest checkpoint of the job: downloadProgress, then downloaded(path) or downloadFailed.
    void download(const QString& jobId);
    // evaluated(evaluation) or evaluationFailed.
    void evaluate(const QString& checkpointPath, const QString& datasetPath);
    bool isEvaluating() const;
    // Writes the model with its dataset's preprocessing to `outPath`: ONNX with the normalization in
    // the graph when the name ends in .onnx (OnnxExport.h), else safetensors (ModelExport.h);
    // exported(path) or exportFailed. Quick (one file written), so it runs on the calling thread.
    void exportModel(const QString& checkpointPath, const QString& datasetPath, const QString& outPath);

signals:
    void downloadProgress(qint64 received, qint64 total);
    void downloaded(const QString& jobId, const QString& path, quint64 modelVersion);
    void downloadFailed(const QString& message);
    void evaluated(const raven::console::Evaluation& evaluation);
    void evaluationFailed(const QString& message);
    void exported(const QString& path);
    void exportFailed(const QString& message);

private:
    ConnectionService& connection_;
    QString directory_;
    std::shared_ptr<std::atomic_bool> cancelled_;
    QFutureWatcher<std::pair<std::shared_ptr<Evaluation>, QString>>* evaluation_ = nullptr;
};

}  // namespace raven::console
