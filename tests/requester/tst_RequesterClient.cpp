// The requester's client against a real coordinator and real workers over TLS on loopback: uploads
// (deduplicated by content, damaged shards refused), jobs (create, list, pause, resume, cancel with
// refund), live metrics to completion, checkpoint downloads equal to the coordinator's weights and to
// local training, and the failures a person meets (bad key, no coordinator, unknown job, budget).
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QtTest>

#include <cmath>

#include "RequesterFixture.h"
#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "nn/ModelCheckpoint.h"
#include "nn/Trainer.h"
#include "protocol/Chunking.h"
#include "protocol/ProtocolClient.h"
#include "requester/BlockingRequester.h"
#include "requester/Credits.h"
#include "requester/Hyperparameters.h"

using namespace raven;
using namespace raven::requester;
using raven::test::Deployment;

namespace {

// Runs `call` and returns the raven::Error it throws (failing the test when it does not).
template <typename F>
raven::Error errorOf(F&& call) {
    try {
        call();
    } catch (const raven::Error& e) {
        return e;
    }
    qFatal("expected a raven::Error");
}

// Adam (lr 0.01), batch 64 = 2 shards a step, the synthetic dataset's 256 training samples: 4 steps
// an epoch.
wire::CreateJob jobOf(const QString& datasetId, const QString& specSha, int epochs, double budgetCredits,
                      const nn::OptimizerConfig& optimizer) {
    wire::CreateJob job;
    job.set_name("synthetic");
    job.set_dataset_id(datasetId.toStdString());
    job.set_model_spec_sha256(specSha.toStdString());
    job.set_budget_micro_credits(std::int64_t(budgetCredits * 1e6));
    wire::Hyperparameters& h = *job.mutable_hyperparameters();
    setOptimizer(h, optimizer);
    h.set_global_batch(64);
    h.set_epochs(std::uint32_t(epochs));
    h.set_seed(4);
    h.set_eval_every_steps(2);
    h.set_checkpoint_every_steps(3);
    return job;
}

nn::OptimizerConfig adam() {
    nn::OptimizerConfig c = nn::OptimizerConfig::defaults(nn::OptimizerKind::Adam);
    c.lr = 0.01;
    return c;
}

std::vector<float> trainLocally(const data::Dataset& dataset, const nn::OptimizerConfig& optimizer, int epochs) {
    nn::TrainOptions options;
    options.epochs = epochs;
    options.batchSize = 64;
    options.shuffleSeed = 4;
    options.optimizer = optimizer;
    return test::flatWeights(*testing::trainSyntheticMlpLocally(dataset, options));
}

using testing::maxRelativeDifference;

}  // namespace

class TestRequesterClient : public QObject {
    Q_OBJECT

    data::Dataset dataset_ = testing::syntheticDataset(256, 64);

    struct Uploaded {
        QString datasetId;
        QString specSha;
    };
    Uploaded uploadAll(Deployment& d, BlockingRequester& r) {
        const data::Manifest manifest = test::publishDatasetDirectory(dataset_, d.path("data"));
        const DatasetUploaded up = r.uploadDataset(manifest, data::ShardStore(d.path("data/shards")));
        return {up.datasetId, r.uploadModelSpec("mlp", QString::fromUtf8(testing::kSyntheticMlpSpec))};
    }

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void badApiKeyIsRefusedClearly() {
        Deployment d;
        const raven::Error e = errorOf([&] { BlockingRequester(d.url(), "not-a-key", d.knownHosts()); });
        QVERIFY2(QString::fromStdString(e.message()).contains("refused the API key"), e.what());
        QVERIFY2(QString::fromStdString(e.hint()).contains("--api-key"), e.what());
    }

    void unreachableCoordinatorFailsClearly() {
        QTcpServer probe;  // a port nobody listens on once the probe is gone
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        const quint16 port = probe.serverPort();
        probe.close();
        QTemporaryDir dir;
        QElapsedTimer clock;
        clock.start();
        const raven::Error e = errorOf([&] {
            BlockingRequester(QUrl(QStringLiteral("wss://127.0.0.1:%1").arg(port)), "key", dir.filePath("known_hosts"));
        });
        QVERIFY2(QString::fromStdString(e.message()).startsWith("cannot reach the coordinator at wss://127.0.0.1:"),
                 e.what());
        QVERIFY2(QString::fromStdString(e.hint()).contains("raven-coordinator is running"), e.what());
        QVERIFY(clock.elapsed() < 10000);

        const raven::Error scheme = errorOf([&] { BlockingRequester(QUrl("https://127.0.0.1:1"), "key"); });
        QVERIFY2(QString::fromStdString(scheme.hint()).contains("wss://host:port"), scheme.what());
        const raven::Error noKey = errorOf([&] { BlockingRequester(QUrl("wss://127.0.0.1:1"), ""); });
        QVERIFY2(QString::fromStdString(noKey.message()).contains("no API key"), noKey.what());
    }

    void silentCoordinatorTimesOut() {
        QTcpServer silent;  // accepts TCP, never speaks TLS
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        QTemporaryDir dir;
        const raven::Error e = errorOf([&] {
            BlockingRequester(QUrl(QStringLiteral("wss://127.0.0.1:%1").arg(silent.serverPort())), "key",
                              dir.filePath("known_hosts"), 500);
        });
        QVERIFY2(QString::fromStdString(e.message()).contains("no answer from the coordinator"), e.what());
    }

    void uploadsOnlyWhatTheCoordinatorLacks() {
        Deployment d;
        BlockingRequester r(d.url(), d.apiKey, d.knownHosts());
        const data::Manifest first = test::publishDatasetDirectory(dataset_, d.path("first"));
        std::vector<UploadProgress> progress;
        const DatasetUploaded a = r.uploadDataset(first, data::ShardStore(d.path("first/shards")),
                                                  [&](const UploadProgress& p) { progress.push_back(p); });
        QCOMPARE(a.datasetId, first.id);
        QCOMPARE(a.shardsTotal, 10);  // 8 train + 2 test shards of 32 samples
        QCOMPARE(a.shardsSent, 10);
        QVERIFY(a.bytesSent > 0);
        QCOMPARE(progress.front().shardsSent, 0);
        QCOMPARE(progress.back().shardsSent, 10);
        QCOMPARE(progress.back().shardsToSend, 10);

        // The same dataset again: nothing travels.
        const DatasetUploaded again = r.uploadDataset(first, data::ShardStore(d.path("first/shards")));
        QCOMPARE(again.datasetId, first.id);
        QCOMPARE(again.shardsSent, 0);
        QCOMPARE(again.bytesSent, 0);

        // Same training samples, another test split: only the new test shards travel.
        data::Dataset other = dataset_;
        other.test = testing::syntheticDataset(0, 40, 99).test;
        const data::Manifest second = test::publishDatasetDirectory(other, d.path("second"));
        QVERIFY(second.id != first.id);
        const DatasetUploaded b = r.uploadDataset(second, data::ShardStore(d.path("second/shards")));
        QCOMPARE(b.datasetId, second.id);
        QCOMPARE(b.shardsTotal, 10);
        QCOMPARE(b.shardsSent, 2);
    }

    void damagedShardOnDiskIsNotSent() {
        Deployment d;
        BlockingRequester r(d.url(), d.apiKey, d.knownHosts());
        const data::Manifest manifest = test::publishDatasetDirectory(dataset_, d.path("data"));
        const data::ShardStore shards(d.path("data/shards"));
        const QString victim = manifest.train.shards[3].hash;
        QFile file(shards.pathOf(victim));
        QVERIFY(file.open(QIODevice::ReadWrite));
        QByteArray bytes = file.readAll();
        bytes[bytes.size() - 1] = char(bytes[bytes.size() - 1] ^ 0x5a);
        QVERIFY(file.seek(0));
        QCOMPARE(file.write(bytes), bytes.size());
        file.close();

        const raven::Error e = errorOf([&] { r.uploadDataset(manifest, shards); });
        QVERIFY2(QString::fromStdString(e.message()).startsWith("cannot upload dataset 'synthetic'"), e.what());
        QVERIFY2(QString::fromStdString(e.message()).contains(victim.left(8)), e.what());
        QVERIFY2(QString::fromStdString(e.message()).contains("does not match"), e.what());
        QVERIFY2(QString::fromStdString(e.hint()).contains(victim), e.what());
        // The coordinator still lacks it, so a job on the dataset is refused with the reason.
        const QString spec = r.uploadModelSpec("mlp", QString::fromUtf8(testing::kSyntheticMlpSpec));
        const raven::Error job = errorOf([&] { r.createJob(jobOf(manifest.id, spec, 1, 5, adam())); });
        QVERIFY2(QString::fromStdString(job.message()).contains("not uploaded yet"), job.what());

        // A shard missing from the folder is named before anything is sent.
        QVERIFY(QFile::remove(shards.pathOf(manifest.test.shards[0].hash)));
        const raven::Error missing = errorOf([&] { r.uploadDataset(manifest, shards); });
        QVERIFY2(QString::fromStdString(missing.message()).contains(manifest.test.shards[0].hash), missing.what());
    }

    void tamperedShardIsRejectedByTheCoordinator() {
        Deployment d;
        const data::Manifest manifest = test::publishDatasetDirectory(dataset_, d.path("data"));
        const data::ShardStore shards(d.path("data/shards"));
        // Declare the dataset through the client, then send one shard whose bytes were changed in
        // transit (a client that does not check what it sends).
        BlockingRequester r(d.url(), d.apiKey, d.knownHosts());
        QCOMPARE(r.uploadDataset(manifest, shards).shardsSent, 10);
        data::Manifest fresh = test::publishDatasetDirectory(testing::syntheticDataset(64, 32, 11), d.path("fresh"));
        protocol::ProtocolClient raw({protocol::PeerInfo{wire::ROLE_REQUESTER, {}, {}, "tamperer"}, d.knownHosts()});
        raw.open(d.url());
        QTRY_VERIFY_WITH_TIMEOUT(raw.isReady(), 10000);
        auto call = [&](wire::Envelope e) {
            std::optional<wire::Envelope> answer;
            raw.request(std::move(e), [&](const wire::Envelope& a) {
                answer = a;
                return protocol::ProtocolClient::ReplyFlow::Done;
            });
            [&] { QTRY_VERIFY_WITH_TIMEOUT(answer.has_value(), 10000); }();
            return answer.value_or(wire::Envelope());
        };
        wire::Envelope auth;
        auth.mutable_authenticate()->set_api_key(d.apiKey.toStdString());
        QVERIFY(call(auth).auth_result().accepted());
        wire::Envelope declare;
        declare.mutable_upload_dataset()->set_name("fresh");
        declare.mutable_upload_dataset()->set_manifest_json(fresh.toBytes().toStdString());
        QCOMPARE(call(declare).upload_dataset_reply().missing_shard_sha256_size(), 3);
        const QByteArray good = data::ShardStore(d.path("fresh/shards")).read(fresh.train.shards[0].hash);
        QByteArray bad = good;
        bad[bad.size() / 2] = char(bad[bad.size() / 2] ^ 1);
        std::vector<wire::ContentChunk> chunks = protocol::splitContent(bad, false);
        chunks[0].set_content_sha256(fresh.train.shards[0].hash.toStdString());  // claims to be the good shard
        wire::Envelope upload;
        upload.mutable_upload_shard()->set_dataset_id(fresh.id.toStdString());
        *upload.mutable_upload_shard()->mutable_content() = chunks[0];
        const wire::Envelope refused = call(upload);
        QVERIFY2(refused.has_error(), refused.ShortDebugString().c_str());
        QCOMPARE(refused.error().code(), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY2(QString::fromStdString(refused.error().message()).contains("hash"), refused.error().message().c_str());

        // The requester client then uploads what is still missing, and only that.
        const DatasetUploaded rest = r.uploadDataset(fresh, data::ShardStore(d.path("fresh/shards")));
        QCOMPARE(rest.shardsSent, 3);
    }

    void jobsAreListedPausedResumedAndCancelledWithRefund() {
        Deployment d;
        BlockingRequester r(d.url(), d.apiKey, d.knownHosts());
        QCOMPARE(r.balance().micro_credits(), test::kDeposit);
        const Uploaded up = uploadAll(d, r);
        const wire::JobInfo created = r.createJob(jobOf(up.datasetId, up.specSha, 2, 12.5, adam()));
        QCOMPARE(created.state(), wire::JOB_STATE_RUNNING);
        QCOMPARE(created.total_steps(), std::uint64_t(8));
        QCOMPARE(created.budget_micro_credits(), std::int64_t(12'500'000));
        QCOMPARE(r.balance().micro_credits(), test::kDeposit - 12'500'000);

        const std::vector<wire::JobInfo> jobs = r.listJobs();
        QCOMPARE(jobs.size(), std::size_t(1));
        QCOMPARE(jobs[0].job_id(), created.job_id());
        QCOMPARE(jobs[0].name(), std::string("synthetic"));
        const QString id = QString::fromStdString(created.job_id());
        QCOMPARE(r.job(id).state(), wire::JOB_STATE_RUNNING);

        QCOMPARE(r.controlJob(id, wire::JOB_ACTION_PAUSE).state(), wire::JOB_STATE_PAUSED);
        QCOMPARE(r.job(id).state(), wire::JOB_STATE_PAUSED);
        QCOMPARE(r.controlJob(id, wire::JOB_ACTION_RESUME).state(), wire::JOB_STATE_RUNNING);

        // Work happens, then the cancel gives back exactly what was not spent.
        QSignalSpy stepped(d.coordinator.get(), &coordinator::Coordinator::jobStepped);
        d.startWorkers(1);
        QTRY_VERIFY_WITH_TIMEOUT(stepped.size() >= 2, 60000);
        const wire::JobInfo cancelled = r.controlJob(id, wire::JOB_ACTION_CANCEL);
        d.stopWorkers();
        QCOMPARE(cancelled.state(), wire::JOB_STATE_CANCELLED);
        QVERIFY(cancelled.spent_micro_credits() > 0);
        QVERIFY(cancelled.step() >= 2);
        QCOMPARE(r.balance().micro_credits(), test::kDeposit - cancelled.spent_micro_credits());
        QCOMPARE(r.job(id).spent_micro_credits(), cancelled.spent_micro_credits());
        // A cancelled job watched ends at once, with its state.
        QCOMPARE(r.watch(id, {}, {}), wire::JOB_STATE_CANCELLED);
    }

    void unknownJobsAndBudgetsAreRefusedClearly() {
        Deployment d;
        BlockingRequester r(d.url(), d.apiKey, d.knownHosts());
        const raven::Error find = errorOf([&] { r.job("999"); });
        QVERIFY2(QString::fromStdString(find.message()).contains("no job 999"), find.what());
        QVERIFY2(QString::fromStdString(find.hint()).contains("raven jobs"), find.what());
        const raven::Error control = errorOf([&] { r.controlJob("999", wire::JOB_ACTION_CANCEL); });
        QVERIFY2(QString::fromStdString(control.message()).contains("no job 999"), control.what());
        const raven::Error pull = errorOf([&] { r.downloadCheckpoint("999", 0, d.path("x.safetensors")); });
        QVERIFY2(QString::fromStdString(pull.message()).contains("no job 999"), pull.what());
        QVERIFY(!QFile::exists(d.path("x.safetensors")));
        const raven::Error watch = errorOf([&] { r.watch("999", {}, {}); });
        QVERIFY2(QString::fromStdString(watch.message()).contains("no job 999"), watch.what());

        const Uploaded up = uploadAll(d, r);
        const raven::Error budget = errorOf([&] { r.createJob(jobOf(up.datasetId, up.specSha, 1, 1000, adam())); });
        QVERIFY2(QString::fromStdString(budget.message()).contains("exceeds your funds"), budget.what());
        QVERIFY2(!budget.hint().empty(), budget.what());

        // Another requester's job is not ours to see or control.
        const wire::JobInfo mine = r.createJob(jobOf(up.datasetId, up.specSha, 1, 1, adam()));
        BlockingRequester other(d.url(), d.coordinator->addRequester("bo", 0), d.knownHosts());
        QVERIFY(other.listJobs().empty());
        const raven::Error theirs =
            errorOf([&] { other.controlJob(QString::fromStdString(mine.job_id()), wire::JOB_ACTION_CANCEL); });
        QVERIFY2(QString::fromStdString(theirs.message()).contains("another requester"), theirs.what());
    }

    void submitWatchAndPullTrainedWeights() {
        Deployment d;
        BlockingRequester r(d.url(), d.apiKey, d.knownHosts());
        const Uploaded up = uploadAll(d, r);
        const wire::JobInfo created = r.createJob(jobOf(up.datasetId, up.specSha, 2, 10, adam()));
        const QString id = QString::fromStdString(created.job_id());
        d.startWorkers(2);

        std::vector<wire::MetricsUpdate> updates;
        std::vector<wire::JobEvent> events;
        const wire::JobState end = r.watch(
            id, [&](const wire::MetricsUpdate& m) { updates.push_back(m); },
            [&](const wire::JobEvent& e) { events.push_back(e); });
        d.stopWorkers();
        QCOMPARE(end, wire::JOB_STATE_COMPLETED);
        // Every step was seen, in order (a subscription opened after step 1 may miss the first).
        QVERIFY(updates.size() >= 7);
        QCOMPARE(updates.back().step(), std::uint64_t(8));
        for (size_t i = 1; i < updates.size(); ++i) QCOMPARE(updates[i].step(), updates[i - 1].step() + 1);
        int evaluations = 0;
        for (const wire::MetricsUpdate& m : updates) evaluations += m.has_eval_accuracy() ? 1 : 0;
        QVERIFY(evaluations >= 3);  // every 2 steps
        QVERIFY2(updates.back().eval_accuracy() > 0.6, qPrintable(QString::number(updates.back().eval_accuracy())));
        QVERIFY(std::any_of(events.begin(), events.end(), [](const wire::JobEvent& e) {
            return e.kind() == wire::JOB_EVENT_KIND_STATE_CHANGED && e.state() == wire::JOB_STATE_COMPLETED;
        }));

        // Watching again replays the history and ends at once.
        std::vector<wire::MetricsUpdate> replayed;
        QCOMPARE(r.watch(
                     id, [&](const wire::MetricsUpdate& m) { replayed.push_back(m); }, {}, true),
                 wire::JOB_STATE_COMPLETED);
        QCOMPARE(replayed.size(), std::size_t(8));

        // The latest checkpoint: what the coordinator holds, and what local training reaches.
        std::vector<DownloadProgress> progress;
        const QString path = d.path("out/model.safetensors");
        const CheckpointDownloaded got =
            r.downloadCheckpoint(id, 0, path, [&](const DownloadProgress& p) { progress.push_back(p); });
        QCOMPARE(got.modelVersion, std::uint64_t(8));
        QCOMPARE(got.path, path);
        QCOMPARE(QFileInfo(path).size(), got.bytes);
        QVERIFY(!progress.empty());
        QCOMPARE(progress.back().receivedBytes, progress.back().totalBytes);
        const auto pulled = nn::loadModel(path.toStdString());
        const Checkpoint checkpoint = Checkpoint::read(path.toStdString());
        QCOMPARE(checkpoint.step, std::int64_t(8));
        QVERIFY(nn::optimizerFromCheckpoint(checkpoint, pulled->parameterNames()) != nullptr);
        const auto held =
            nn::loadModel(d.path(QStringLiteral("coordinator/jobs/%1/state.safetensors").arg(id)).toStdString());
        QVERIFY(test::flatWeights(*pulled) == test::flatWeights(*held));
        const double diff = maxRelativeDifference(test::flatWeights(*pulled), trainLocally(dataset_, adam(), 2));
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));

        // An earlier version the coordinator keeps (checkpoints every 3 steps: 3 and 6), and one it does not.
        const CheckpointDownloaded six = r.downloadCheckpoint(id, 6, d.path("v6.safetensors"));
        QCOMPARE(six.modelVersion, std::uint64_t(6));
        QCOMPARE(Checkpoint::read(d.path("v6.safetensors").toStdString()).step, std::int64_t(6));
        const raven::Error gone = errorOf([&] { r.downloadCheckpoint(id, 5, d.path("v5.safetensors")); });
        QVERIFY2(QString::fromStdString(gone.message()).contains("no checkpoint of version 5"), gone.what());
        QVERIFY2(QString::fromStdString(gone.hint()).contains("versions kept"), gone.what());
        QVERIFY(!QFile::exists(d.path("v5.safetensors")));

        // The budget paid the contributors and the rest came back.
        const wire::JobInfo done = r.job(id);
        QVERIFY(done.spent_micro_credits() > 0);
        QCOMPARE(r.balance().micro_credits(), test::kDeposit - done.spent_micro_credits());
        // The coordinator states its price, and the job's settings as it runs them.
        QCOMPARE(qint64(r.balance().micro_credits_per_teraflop()), qint64(test::testRate().perTeraflop));
        QCOMPARE(done.hyperparameters().global_batch(), 64u);
        QCOMPARE(done.hyperparameters().eval_every_steps(), 2u);
        QCOMPARE(QString::fromStdString(done.dataset_id()), up.datasetId);

        // Who computed it, from the ledger: the two workers by name, paid what the job spent, every
        // sample of the 2 epochs (256 x 2) trained once.
        const wire::JobContributors who = r.jobContributors(id);
        QCOMPARE(who.job_id(), id.toStdString());
        std::int64_t paid = 0;
        std::uint64_t samples = 0, units = 0;
        for (const wire::JobContributor& c : who.contributors()) {
            QVERIFY2(QString::fromStdString(c.display_name()).startsWith("worker "), c.display_name().c_str());
            QVERIFY(!c.contributor_id().empty());
            QVERIFY(c.last_accepted_ms() >= c.first_leased_ms() && c.first_leased_ms() > 0);
            paid += c.micro_credits();
            samples += c.samples();
            units += c.work_units();
        }
        QVERIFY(who.contributors_size() >= 1 && who.contributors_size() <= 2);
        QCOMPARE(qint64(paid), qint64(done.spent_micro_credits()));
        QCOMPARE(samples, std::uint64_t(512));
        QCOMPARE(units, std::uint64_t(16));  // one 32-sample shard per unit
        // Another requester may not ask.
        BlockingRequester bob(d.url(), d.coordinator->addRequester(QStringLiteral("bob"), test::kDeposit),
                              d.knownHosts());
        const raven::Error refused = errorOf([&] { bob.jobContributors(id); });
        QVERIFY2(QString::fromStdString(refused.message()).contains("belongs to another requester"), refused.what());
    }

    void momentumSgdMeansWhatItMeansLocally() {
        // The hyperparameters travel as setOptimizer writes them; the coordinator must read the same
        // optimizer back, or the job would train differently from `raven train --local`.
        Deployment d;
        BlockingRequester r(d.url(), d.apiKey, d.knownHosts());
        const Uploaded up = uploadAll(d, r);
        nn::OptimizerConfig sgd = nn::OptimizerConfig::defaults(nn::OptimizerKind::Sgd);
        sgd.lr = 0.05;
        sgd.momentum = 0.8;
        sgd.weightDecay = 1e-3;
        const wire::JobInfo created = r.createJob(jobOf(up.datasetId, up.specSha, 1, 10, sgd));
        const QString id = QString::fromStdString(created.job_id());
        d.startWorkers(1);
        QCOMPARE(r.watch(id, {}, {}), wire::JOB_STATE_COMPLETED);
        d.stopWorkers();
        r.downloadCheckpoint(id, 0, d.path("sgd.safetensors"));
        const auto pulled = nn::loadModel(d.path("sgd.safetensors").toStdString());
        const double diff = maxRelativeDifference(test::flatWeights(*pulled), trainLocally(dataset_, sgd, 1));
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
    }

    void creditsAndNames() {
        QCOMPARE(parseCredits("12.5"), std::int64_t(12'500'000));
        QCOMPARE(parseCredits(" 0.000001 "), std::int64_t(1));
        QCOMPARE(parseCredits("1e3"), std::int64_t(1'000'000'000));
        QVERIFY_THROWS_EXCEPTION(raven::Error, parseCredits("-1"));
        QVERIFY_THROWS_EXCEPTION(raven::Error, parseCredits("ten"));
        QVERIFY_THROWS_EXCEPTION(raven::Error, parseCredits("1e30"));
        QCOMPARE(formatCredits(12'500'000), QString("12.5"));
        QCOMPARE(formatCredits(1), QString("0.000001"));
        QCOMPARE(formatCredits(-3'000'000), QString("-3"));
        QCOMPARE(formatCredits(0), QString("0"));
        QCOMPARE(jobStateName(wire::JOB_STATE_BUDGET_EXHAUSTED), QString("budget exhausted"));
        QVERIFY(isFinished(wire::JOB_STATE_FAILED) && !isFinished(wire::JOB_STATE_PAUSED));
        QCOMPARE(gradientEncodingFromName("BF16"), wire::GRADIENT_ENCODING_BF16);
        QCOMPARE(gradientEncodingFromName("int8"), wire::GRADIENT_ENCODING_INT8_BLOCK);
        QCOMPARE(gradientEncodingName(wire::GRADIENT_ENCODING_INT8_BLOCK), QStringLiteral("int8"));
        QVERIFY_THROWS_EXCEPTION(raven::Error, gradientEncodingFromName("int4"));
        wire::Hyperparameters h;
        nn::OptimizerConfig sgd = nn::OptimizerConfig::defaults(nn::OptimizerKind::Sgd);
        setOptimizer(h, sgd);
        QCOMPARE(h.optimizer(), std::string("sgd"));
        sgd.momentum = 0.9;
        setOptimizer(h, sgd);
        QCOMPARE(h.optimizer(), std::string("momentum"));
        sgd.lr = -1;
        QVERIFY_THROWS_EXCEPTION(raven::Error, setOptimizer(h, sgd));
    }
};

QTEST_GUILESS_MAIN(TestRequesterClient)
#include "tst_RequesterClient.moc"
