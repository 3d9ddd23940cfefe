#pragma once
// BlockingRequester: RequesterClient for scripts and the `raven` CLI. Each call runs a local event
// loop until its answer arrives and returns it, or throws raven::Error (message + hint) on failure.
// Needs a QCoreApplication; not for GUI code, whose event loop must not nest (use RequesterClient).
//
//   BlockingRequester coordinator(QUrl("wss://coordinator.example:7443"), apiKey);   // connects now
//   const DatasetUploaded d = coordinator.uploadDataset(manifest, shards);
//   const QString spec = coordinator.uploadModelSpec("mlp", specJson);
//   wire::CreateJob job; job.set_dataset_id(d.datasetId.toStdString()); ...
//   const wire::JobInfo info = coordinator.createJob(job);
//   const wire::JobState end = coordinator.watch(QString::fromStdString(info.job_id()), onMetrics, onEvent);
//   coordinator.downloadCheckpoint(QString::fromStdString(info.job_id()), 0, "model.safetensors");
#include <QEventLoop>
#include <optional>

#include "requester/RequesterClient.h"

namespace raven::requester {

class BlockingRequester {
public:
    // Connects and authenticates; raven::Error when the coordinator cannot be reached or refuses.
    BlockingRequester(const QUrl& coordinator, const QString& apiKey, const QString& knownHostsPath = {},
                      int connectTimeoutMs = 15000);

    RequesterClient& client() { return client_; }

    DatasetUploaded uploadDataset(const data::Manifest& manifest, const data::ShardStore& shards,
                                  std::function<void(const UploadProgress&)> progress = {});
    QString uploadModelSpec(const QString& name, const QString& specJson);
    wire::JobInfo createJob(const wire::CreateJob& job);
    std::vector<wire::JobInfo> listJobs();
    wire::JobInfo job(const QString& jobId);
    wire::JobInfo controlJob(const QString& jobId, wire::JobAction action);
    CheckpointDownloaded downloadCheckpoint(const QString& jobId, std::uint64_t modelVersion, const QString& path,
                                            std::function<void(const DownloadProgress&)> progress = {});
    wire::Balance balance();
    wire::JobContributors jobContributors(const QString& jobId);

    // Follows the job until it reaches a final state and returns that state (at once when it already
    // has one). `metrics` and `event` see the stream (history first when `includeHistory`).
    wire::JobState watch(const QString& jobId, std::function<void(const wire::MetricsUpdate&)> metrics,
                         std::function<void(const wire::JobEvent&)> event, bool includeHistory = false);

private:
    // Starts a call with a Reply that ends the local loop, runs the loop, returns or throws.
    template <typename T, typename Start>
    T wait(Start start) {
        std::optional<T> result;
        std::optional<Failure> failure;
        QEventLoop loop;
        start(Reply<T>{[&](const T& value) {
                           result = value;
                           loop.quit();
                       },
                       [&](const Failure& f) {
                           failure = f;
                           loop.quit();
                       }});
        if (!result && !failure) loop.exec();
        if (failure) failure->raise();
        return std::move(*result);
    }

    RequesterClient client_;
};

}  // namespace raven::requester
