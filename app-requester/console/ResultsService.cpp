#include "ResultsService.h"

#include "OnnxExport.h"

#include <QDir>
#include <QtConcurrent>

#include "ConnectionService.h"
#include "ModelExport.h"
#include "WhileAlive.h"
#include "requester/RequesterClient.h"

namespace raven::console {

ResultsService::ResultsService(ConnectionService& connection, QString directory, QObject* parent)
    : QObject(parent), connection_(connection), directory_(std::move(directory)) {
    QDir().mkpath(directory_);
}

ResultsService::~ResultsService() {
    if (cancelled_) *cancelled_ = true;
    if (evaluation_) evaluation_->waitForFinished();
}

void ResultsService::download(const QString& jobId) {
    auto* client = connection_.client();
    if (!client) {
        emit downloadFailed(tr("Not connected to a coordinator: the checkpoint is on the coordinator."));
        return;
    }
    const QString path = QDir(directory_).filePath("job-" + jobId + ".safetensors");
    client->downloadCheckpoint(
        jobId, 0, path,
        {whileAlive(this,
                    [jobId](ResultsService* self, const requester::CheckpointDownloaded& d) {
                        emit self->downloaded(jobId, d.path, d.modelVersion);
                    }),
         whileAlive(this,
                    [](ResultsService* self, const requester::Failure& f) { emit self->downloadFailed(f.text()); })},
        whileAlive(this, [](ResultsService* self, const requester::DownloadProgress& p) {
            emit self->downloadProgress(qint64(p.receivedBytes), qint64(p.totalBytes));
        }));
}

void ResultsService::exportModel(const QString& checkpointPath, const QString& datasetPath, const QString& outPath) {
    try {
        const data::Manifest dataset = data::Manifest::load(QDir(datasetPath).filePath("manifest.json"));
        if (outPath.endsWith(QLatin1String(".onnx"), Qt::CaseInsensitive))
            exportOnnx(checkpointPath, dataset, outPath);
        else
            console::exportModel(checkpointPath, dataset, outPath);
        emit exported(outPath);
    } catch (const std::exception& e) {
        emit exportFailed(QString::fromUtf8(e.what()));
    }
}

bool ResultsService::isEvaluating() const { return evaluation_ && evaluation_->isRunning(); }

void ResultsService::evaluate(const QString& checkpointPath, const QString& datasetPath) {
    if (isEvaluating()) return;
    cancelled_ = std::make_shared<std::atomic_bool>(false);
    auto cancelled = cancelled_;
    delete evaluation_;
    evaluation_ = new QFutureWatcher<std::pair<std::shared_ptr<Evaluation>, QString>>(this);
    connect(evaluation_, &QFutureWatcherBase::finished, this, [this] {
        const auto [evaluation, error] = evaluation_->result();
        if (evaluation)
            emit evaluated(*evaluation);
        else
            emit evaluationFailed(error);
    });
    evaluation_->setFuture(QtConcurrent::run(
        [checkpointPath, datasetPath, cancelled]() -> std::pair<std::shared_ptr<Evaluation>, QString> {
            try {
                return {std::make_shared<Evaluation>(evaluateCheckpoint(checkpointPath, datasetPath, *cancelled)), {}};
            } catch (const std::exception& e) {
                return {nullptr, QString::fromUtf8(e.what())};
            }
        }));
}

}  // namespace raven::console
