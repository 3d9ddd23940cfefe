#pragma once
// LocalCluster: a whole Raven deployment on this machine, for `raven train --workers N` (the main
// job) and for people trying Raven alone: a coordinator embedded in this process and N raven-worker
// processes that contribute to it over loopback TLS, exactly as remote contributors would.
//
//   LocalCluster cluster({.directory = dir, .workers = 2});
//   BlockingRequester requester(cluster.url(), cluster.apiKey(), cluster.knownHostsPath());
//   ... upload, create the job, watch it ...
//   cluster.stop();                 // workers hand back their leases and exit; the coordinator stops
//
// The coordinator keeps its data (store, shards, checkpoints) in `directory`, so a second run on the
// same directory reuses the uploaded shards. The workers are found beside this program
// (installed: /usr/bin/raven-worker) or in the build tree (../app-contributor/raven-worker), or
// named by RAVEN_WORKER.
#include <QProcess>
#include <QString>
#include <QUrl>

#include <memory>
#include <vector>

#include "coordinator/Coordinator.h"

namespace raven::cli {

struct LocalClusterOptions {
    QString directory;
    int workers = 2;
    int threadsPerWorker = 1;
    QString device = "cpu";  // for every worker: cpu, vulkan, vulkan:N
};

class LocalCluster {
public:
    // Starts the coordinator and the workers; raven::Error when a part cannot start.
    explicit LocalCluster(LocalClusterOptions options);
    ~LocalCluster();

    QUrl url() const { return coordinator_->url(); }
    const QString& apiKey() const { return apiKey_; }
    QString knownHostsPath() const;
    coordinator::Coordinator& coordinator() { return *coordinator_; }

    // SIGTERM to every worker (they hand back what they hold), waits for them, stops the coordinator.
    void stop();

    // The raven-worker program this cluster starts; raven::Error naming where it looked.
    static QString workerProgram();

private:
    LocalClusterOptions options_;
    std::unique_ptr<coordinator::Coordinator> coordinator_;
    QString apiKey_;
    std::vector<std::unique_ptr<QProcess>> workers_;
};

}  // namespace raven::cli
