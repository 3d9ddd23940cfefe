// raven train --workers N: the distributed engine on one machine. A coordinator runs in this process
// and N raven-worker processes contribute to it over loopback TLS (requester/LocalCluster.h); the dataset and
// the spec are uploaded and the job is created as `raven submit` does, followed as `raven watch`
// does, and its final checkpoint is downloaded and evaluated on the test split.
#include <QDir>
#include <QTemporaryDir>
#include <cstdio>

#include "ClusterTraining.h"
#include "DatasetDirectory.h"
#include "JobInputs.h"
#include "JobWatch.h"
#include "base/Error.h"
#include "nn/ModelCheckpoint.h"
#include "nn/Trainer.h"
#include "requester/Hyperparameters.h"
#include "requester/LocalCluster.h"

namespace raven::cli {

int trainOnLocalCluster(const QCommandLineParser& p) {
    const QString specText = readSpecText(p.value("model"));
    const nn::ModelSpec spec = nn::ModelSpec::parse(specText.toStdString(), p.value("model").toStdString());
    const LocalDataset dataset = localDataset(p.value("data"));

    wire::CreateJob job;
    job.set_name(spec.name);
    job.set_budget_micro_credits(1000 * ledger::kMicroCreditsPerCredit);
    wire::Hyperparameters& h = *job.mutable_hyperparameters();
    setTrainingOptions(h, p);
    // Evaluate after every epoch, as the local trainer does.
    const std::int64_t shardsPerStep = std::max<std::int64_t>(1, h.global_batch() / dataset.manifest.shardSize);
    const auto shards = static_cast<std::int64_t>(dataset.manifest.train.shards.size());
    h.set_eval_every_steps(std::uint32_t((shards + shardsPerStep - 1) / shardsPerStep));

    // A fresh coordinator per run: one left from an interrupted run would resume its old job.
    QTemporaryDir scratch(QDir::temp().filePath("raven-cluster-XXXXXX"));
    const QString directory = p.isSet("cluster-dir") ? p.value("cluster-dir") : scratch.path();
    RAVEN_CHECK(p.isSet("cluster-dir") || scratch.isValid(), "cannot create a temporary directory for the coordinator",
                "pass --cluster-dir DIR");
    requester::LocalClusterOptions options;
    options.directory = directory;
    options.workers = int(countOption(p, "workers", 1));
    options.threadsPerWorker = p.isSet("threads") ? int(countOption(p, "threads", 1)) : 1;
    options.device = p.value("device");
    requester::LocalCluster cluster(options);
    std::printf("cluster embedded coordinator at %s, %d raven-worker process(es) on %s (logs in %s)\n",
                qPrintable(cluster.url().toString()), options.workers, qPrintable(options.device),
                qPrintable(directory));
    std::fflush(stdout);

    requester::BlockingRequester requester(cluster.url(), cluster.apiKey(), cluster.knownHostsPath());
    const wire::JobInfo created = submitJob(requester, dataset, spec, specText, job);
    const QString jobId = QString::fromStdString(created.job_id());
    const int status = watchJob(requester, jobId);
    if (status != 0) return status;

    const QString out = p.isSet("out") ? p.value("out") : QString::fromStdString(spec.name) + ".safetensors";
    requester.downloadCheckpoint(jobId, 0, out);
    cluster.stop();

    const auto model = nn::loadModel(out.toStdString());
    const data::Dataset data = DatasetDirectory::open(p.value("data"));
    nn::Trainer trainer(*model, data, {});
    const nn::EvalResult r = trainer.evaluate(data.test);
    std::printf("final test accuracy %.2f%% (loss %.4f) after %llu steps on %d worker(s); checkpoint %s\n",
                100.0 * r.accuracy, r.loss, (unsigned long long)created.total_steps(), options.workers,
                qPrintable(out));
    return 0;
}

}  // namespace raven::cli
