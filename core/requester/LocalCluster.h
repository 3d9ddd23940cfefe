#pragma once
// LocalCluster: a whole Raven deployment on this machine, for `raven train --workers N` (the main
// job) and for the console's default connection (people trying Raven alone): a coordinator embedded
// in this process and N raven-worker processes that contribute to it over loopback TLS, exactly as
// remote contributors would.
//
//   LocalCluster cluster({.directory = dir, .workers = 2});
//   BlockingRequester requester(cluster.url(), cluster.apiKey(), cluster.knownHostsPath());
//   ... upload, create the job, watch it ...
//   cluster.stop();                 // workers hand back their leases and exit; the coordinator stops
//
// The coordinator keeps its data (store, shards, checkpoints) in `directory`, so a second run on the
// same directory reuses the uploaded shards. With `keepIdentity` the requester's API key and the
// workers' tokens are kept in the directory too (files readable by this user only), so that a later
// run (the console after a restart) is the same requester and sees its earlier jobs; without it
// every run is a new requester, as `raven train` wants. The workers are found beside this program
// (installed: /usr/bin/raven-worker) or in the build tree (../app-contributor/raven-worker), or
// named by RAVEN_WORKER.
#include <QProcess>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <vector>

#include "coordinator/Coordinator.h"

namespace raven::requester {

struct LocalClusterOptions {
    QString directory;
    int workers = 2;  // 0 is allowed: setWorkerCount() starts them later
    int threadsPerWorker = 1;
    QString device = "cpu";     // for every worker: cpu, vulkan, vulkan:N
    bool keepIdentity = false;  // reuse the requester key and worker tokens kept in `directory`
    ledger::CreditRate rate;    // the embedded coordinator's price
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
    const LocalClusterOptions& options() const { return options_; }

    // Workers still running (those asked to stop count until they have exited).
    int runningWorkers() const;
    // Starts workers or asks the last ones to stop (SIGTERM: they hand back their leases) until `count`
    // run; does not wait. raven::Error when a worker cannot start.
    void setWorkerCount(int count);

    // SIGTERM to every worker (they hand back what they hold), waits for them, stops the coordinator.
    void stop();

    // The raven-worker program this cluster starts; raven::Error naming where it looked.
    static QString workerProgram();

private:
    void startWorker(int index);
    // The secret kept in `file` (keepIdentity), or a new one from `create` (then kept).
    QString keptSecret(const QString& file, const std::function<QString()>& create) const;

    LocalClusterOptions options_;
    std::unique_ptr<coordinator::Coordinator> coordinator_;
    QString apiKey_;
    std::vector<std::unique_ptr<QProcess>> workers_;
};

}  // namespace raven::requester
