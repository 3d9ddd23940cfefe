#pragma once
// What the requester tests share: a real Coordinator on a temporary data directory (listening on a
// free loopback port), datasets published as `raven dataset import` lays them out (DIR/manifest.json,
// DIR/shards/), and real contributors (worker::Worker, computing on the CPU) that make jobs progress.
// Everything talks over TLS WebSockets on loopback.
#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <vector>

#include "coordinator/Coordinator.h"
#include "data/Sharding.h"
#include "nn/Model.h"
#include "training/SyntheticDataset.h"
#include "training/WeightComparison.h"
#include "worker/Worker.h"

namespace raven::test {

// One micro-credit per FLOP, so that even the tiny synthetic units cost something visible.
inline ledger::CreditRate testRate() { return ledger::CreditRate{1'000'000'000'000}; }

inline constexpr ledger::MicroCredits kDeposit = 100 * ledger::kMicroCreditsPerCredit;

// Writes `dataset` as a dataset directory: DIR/manifest.json and DIR/shards/<sha256>.
inline data::Manifest publishDatasetDirectory(const data::Dataset& dataset, const QString& dir) {
    data::ShardStore shards(QDir(dir).filePath("shards"));
    data::Manifest manifest = data::publishDataset(dataset, shards, 32);
    manifest.save(QDir(dir).filePath("manifest.json"));
    return manifest;
}

using testing::flatWeights;

class Deployment {
public:
    Deployment() {
        coordinator::CoordinatorOptions options;
        options.dataDir = dir.filePath("coordinator");
        options.rate = testRate();
        options.creditWindow = ledger::CreditWindow::none();  // balances are checked right after acceptance
        options.shardsPerUnit = 1;
        coordinator = std::make_unique<coordinator::Coordinator>(options);
        coordinator->start();
        apiKey = coordinator->addRequester(QStringLiteral("ana"), kDeposit);
    }
    ~Deployment() { stopWorkers(); }

    QUrl url() const { return coordinator->url(); }
    QString knownHosts() const { return dir.filePath("known_hosts"); }
    QString path(const QString& name) const { return dir.filePath(name); }

    // Contributors that lease, compute and submit until stopWorkers().
    void startWorkers(int count) {
        for (int i = 0; i < count; ++i) {
            worker::WorkerOptions o;
            o.coordinator = url();
            o.token = coordinator->addContributor(QStringLiteral("worker %1").arg(i));
            o.knownHostsPath = dir.filePath(QStringLiteral("worker%1/known_hosts").arg(i));
            o.cacheDir = dir.filePath(QStringLiteral("worker%1/cache").arg(i));
            o.threads = 1;
            o.maxConcurrentLeases = 2;
            workers.push_back(std::make_unique<worker::Worker>(o));
            workers.back()->start();
        }
    }

    void stopWorkers() {
        for (auto& w : workers) {
            QSignalSpy stopped(w.get(), &worker::Worker::stopped);
            w->stop();
            if (stopped.isEmpty()) stopped.wait(40000);
        }
        workers.clear();
    }

    QTemporaryDir dir;
    std::unique_ptr<coordinator::Coordinator> coordinator;
    QString apiKey;
    std::vector<std::unique_ptr<worker::Worker>> workers;
};

}  // namespace raven::test
