// The `raven` CLI's coordinator commands, run as a process (RAVEN_BINARY_DIR/app-requester/raven)
// against a coordinator and workers in this test process: submit, watch, jobs, pull, balance,
// cancel, a folder of IDX files submitted as it is, and the messages of the usual mistakes.
#include <QDirIterator>
#include <QProcess>
#include <QStandardPaths>
#include <QtEndian>
#include <QtTest>

#include "RequesterFixture.h"
#include "nn/ModelCheckpoint.h"
#include "requester/BlockingRequester.h"
#include "requester/Credits.h"

using namespace raven;
using raven::test::Deployment;

namespace {

struct Run {
    int exitCode = -1;
    QString out;
    QString err;
    QString all() const { return out + err; }
};

// Writes an IDX file: magic (0, 0, type 0x08 = u8, rank), big-endian dims, values.
void writeIdx(const QString& path, const std::vector<quint32>& dims, const QByteArray& values) {
    QByteArray bytes;
    bytes.append(char(0)).append(char(0)).append(char(0x08)).append(char(dims.size()));
    for (quint32 d : dims) {
        quint32 be = qToBigEndian(d);
        bytes.append(reinterpret_cast<const char*>(&be), 4);
    }
    bytes.append(values);
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    QCOMPARE(file.write(bytes), bytes.size());
}

// n images of 4x4 pixels whose bright quarter tells the class (0, 1 or 2), and their labels.
void writeIdxSplit(const QString& dir, const QString& prefix, quint32 n) {
    QByteArray images, labels;
    for (quint32 i = 0; i < n; ++i) {
        const int label = int(i % 3);
        labels.append(char(label));
        for (int p = 0; p < 16; ++p)
            images.append(char((p / 4 == label ? 200 : 20) + int((i * 7 + quint32(p) * 13) % 30)));
    }
    writeIdx(QDir(dir).filePath(prefix + "-images-idx3-ubyte"), {n, 4, 4}, images);
    writeIdx(QDir(dir).filePath(prefix + "-labels-idx1-ubyte"), {n}, labels);
}

const char* kIdxSpec = R"({
  "name": "idx-mlp",
  "input": {"shape": [1, 4, 4]},
  "layers": [
    {"name": "flatten", "kind": "flatten"},
    {"name": "fc1", "kind": "linear", "out": 8},
    {"name": "relu1", "kind": "relu"},
    {"name": "fc2", "kind": "linear", "out": 3}
  ],
  "loss": {"kind": "cross_entropy"},
  "init": {"scheme": "kaiming_uniform", "seed": 2}
})";

}  // namespace

class TestRequesterCli : public QObject {
    Q_OBJECT

    QString binary_;

    // Runs `raven args...` with the deployment's coordinator, API key (through a file) and known-hosts
    // file in its environment, while this process's event loop serves it.
    Run raven(Deployment& d, const QStringList& args, QProcessEnvironment env = {}, int timeoutMs = 120000) {
        if (env.isEmpty()) {
            env = QProcessEnvironment::systemEnvironment();
            env.insert("RAVEN_COORDINATOR", d.url().toString());
            env.insert("RAVEN_API_KEY", d.apiKey);
        }
        env.insert("RAVEN_KNOWN_HOSTS", d.knownHosts());
        env.insert("XDG_CACHE_HOME", d.path("xdg-cache"));
        env.insert("XDG_DATA_HOME", d.path("xdg-data"));
        QProcess process;
        process.setProcessEnvironment(env);
        process.start(binary_, args);
        Run run;
        if (!process.waitForStarted(10000)) {
            run.err = "could not start " + binary_;
            return run;
        }
        // Not waitForFinished: the coordinator answering it lives on this thread's event loop.
        if (!QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, timeoutMs)) {
            process.kill();
            process.waitForFinished(5000);
            run.err = "timed out; stderr so far: " + QString::fromLocal8Bit(process.readAllStandardError());
            return run;
        }
        run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
        run.out = QString::fromLocal8Bit(process.readAllStandardOutput());
        run.err = QString::fromLocal8Bit(process.readAllStandardError());
        return run;
    }

    QString writeSpec(Deployment& d, const char* json) {
        const QString path = d.path("spec.json");
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly)) return {};
        file.write(json);
        return path;
    }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        binary_ = qEnvironmentVariable("RAVEN_BINARY_DIR") + "/app-requester/raven";
        QVERIFY2(QFileInfo(binary_).isExecutable(), qPrintable(binary_ + " is missing; build the raven target"));
    }

    void submitWatchJobsPullBalanceCancel() {
        Deployment d;
        test::publishDatasetDirectory(testing::syntheticDataset(256, 64), d.path("data"));
        const QString spec = writeSpec(d, testing::kSyntheticMlpSpec);
        QFile keyFile(d.path("api-key"));
        QVERIFY(keyFile.open(QIODevice::WriteOnly));
        keyFile.write(d.apiKey.toUtf8() + "\n");
        keyFile.close();
        // The connection from options (and the key from a file) rather than from the environment.
        const Run submit = raven(d,
                                 {"submit",
                                  "--model",
                                  spec,
                                  "--data",
                                  d.path("data"),
                                  "--name",
                                  "cli job",
                                  "--epochs",
                                  "2",
                                  "--batch-size",
                                  "64",
                                  "--lr",
                                  "0.01",
                                  "--seed",
                                  "4",
                                  "--eval-every",
                                  "2",
                                  "--checkpoint-every",
                                  "3",
                                  "--budget",
                                  "10",
                                  "--coordinator",
                                  d.url().toString(),
                                  "--api-key-file",
                                  d.path("api-key")},
                                 QProcessEnvironment::systemEnvironment());
        QVERIFY2(submit.exitCode == 0, qPrintable(submit.all()));
        const QString id = submit.out.trimmed();
        bool numeric = false;
        id.toLongLong(&numeric);
        QVERIFY2(numeric, qPrintable(submit.all()));
        QVERIFY2(submit.err.contains("10 uploaded"), qPrintable(submit.err));

        d.startWorkers(2);
        const Run watch = raven(d, {"watch", id});
        qInfo().noquote() << "raven watch printed:\n" + watch.out;
        QVERIFY2(watch.exitCode == 0, qPrintable(watch.all()));
        QVERIFY2(watch.out.contains("eval accuracy"), qPrintable(watch.all()));
        QVERIFY2(watch.out.contains(QStringLiteral("job %1 completed at step 8 of 8").arg(id)),
                 qPrintable(watch.all()));
        d.stopWorkers();

        const Run jobs = raven(d, {"jobs"});
        qInfo().noquote() << "raven jobs printed:\n" + jobs.out;
        QVERIFY2(jobs.exitCode == 0, qPrintable(jobs.all()));
        const QStringList lines = jobs.out.split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].startsWith("ID") && lines[0].contains("STATE"), qPrintable(jobs.out));
        QVERIFY2(lines[1].startsWith(id + " ") && lines[1].contains("cli job") && lines[1].contains("completed") &&
                     lines[1].contains("8/8") && lines[1].contains("/10"),
                 qPrintable(jobs.out));

        const Run pull = raven(d, {"pull", id, "-o", d.path("pulled.safetensors")});
        QVERIFY2(pull.exitCode == 0, qPrintable(pull.all()));
        QCOMPARE(pull.out.trimmed(), d.path("pulled.safetensors"));
        const auto pulled = nn::loadModel(d.path("pulled.safetensors").toStdString());
        const auto held =
            nn::loadModel(d.path(QStringLiteral("coordinator/jobs/%1/state.safetensors").arg(id)).toStdString());
        QVERIFY(test::flatWeights(*pulled) == test::flatWeights(*held));

        const ledger::MicroCredits spent = d.coordinator->ledger().jobSpend(id.toLongLong()).paid;
        QVERIFY(spent > 0);
        const Run balance = raven(d, {"balance"});
        QVERIFY2(balance.exitCode == 0, qPrintable(balance.all()));
        QVERIFY2(balance.out.startsWith(requester::formatCredits(test::kDeposit - spent) + " credits"),
                 qPrintable(balance.out));
        // Paid at acceptance (no verification window in this fixture): nothing pending, nothing withheld.
        QVERIFY2(balance.out.contains("pending verification: 0 credits"), qPrintable(balance.out));
        QVERIFY2(balance.out.contains("withheld (failed checks): 0 credits"), qPrintable(balance.out));

        const Run late = raven(d, {"cancel", id});
        QCOMPARE(late.exitCode, 1);
        QVERIFY2(late.err.contains("cannot change any more"), qPrintable(late.all()));

        // The same dataset again sends nothing; a job nobody computes is cancelled with a refund.
        const Run second =
            raven(d, {"submit", "--model", spec, "--data", d.path("data"), "--batch-size", "64", "--budget", "2.5"});
        QVERIFY2(second.exitCode == 0, qPrintable(second.all()));
        QVERIFY2(second.err.contains("0 uploaded") && second.err.contains("10 already on the coordinator"),
                 qPrintable(second.err));
        const QString id2 = second.out.trimmed();
        const Run pause = raven(d, {"pause", id2});
        QVERIFY2(pause.exitCode == 0 && pause.out.contains("is paused"), qPrintable(pause.all()));
        const Run cancel = raven(d, {"cancel", id2});
        QVERIFY2(cancel.exitCode == 0 && cancel.out.contains("is cancelled"), qPrintable(cancel.all()));
        QVERIFY2(cancel.out.contains("your balance is now " + requester::formatCredits(test::kDeposit - spent)),
                 qPrintable(cancel.out));
        const Run watchCancelled = raven(d, {"watch", id2});
        QCOMPARE(watchCancelled.exitCode, 1);
        QVERIFY2(watchCancelled.out.contains("cancelled"), qPrintable(watchCancelled.all()));
    }

    void submitsAFolderOfIdxFilesAndWatches() {
        Deployment d;
        QVERIFY(QDir().mkpath(d.path("idx")));
        writeIdxSplit(d.path("idx"), "train", 96);
        writeIdxSplit(d.path("idx"), "t10k", 32);
        d.startWorkers(1);
        const Run run =
            raven(d, {"submit", "--model", writeSpec(d, kIdxSpec), "--data", d.path("idx"), "--batch-size", "32",
                      "--epochs", "2", "--optimizer", "sgd", "--lr", "0.1", "--budget", "5", "--watch"});
        d.stopWorkers();
        QVERIFY2(run.exitCode == 0, qPrintable(run.all()));
        QVERIFY2(run.err.contains("imported " + d.path("idx")), qPrintable(run.err));
        QVERIFY2(run.out.contains("completed at step 6 of 6"), qPrintable(run.all()));
        // The shards were published under the user's cache folder.
        QDirIterator manifests(d.path("xdg-cache"), {"manifest.json"}, QDir::Files, QDirIterator::Subdirectories);
        QVERIFY(manifests.hasNext());
    }

    void mistakesAreExplained() {
        Deployment d;
        test::publishDatasetDirectory(testing::syntheticDataset(64, 32), d.path("data"));
        const QString spec = writeSpec(d, testing::kSyntheticMlpSpec);

        QProcessEnvironment bare = QProcessEnvironment::systemEnvironment();
        bare.remove("RAVEN_COORDINATOR");
        bare.remove("RAVEN_API_KEY");
        const Run nowhere = raven(d, {"jobs"}, bare);
        QCOMPARE(nowhere.exitCode, 1);
        QVERIFY2(nowhere.err.contains("no coordinator given") && nowhere.err.contains("RAVEN_COORDINATOR"),
                 qPrintable(nowhere.err));

        QProcessEnvironment badKey = QProcessEnvironment::systemEnvironment();
        badKey.insert("RAVEN_COORDINATOR", d.url().toString());
        badKey.insert("RAVEN_API_KEY", "wrong");
        const Run refused = raven(d, {"balance"}, badKey);
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("refused the API key") && refused.err.contains("hint:"), qPrintable(refused.err));

        QProcessEnvironment closed = badKey;
        closed.insert("RAVEN_COORDINATOR", "127.0.0.1:1");
        const Run unreachable = raven(d, {"jobs"}, closed);
        QCOMPARE(unreachable.exitCode, 1);
        QVERIFY2(unreachable.err.contains("cannot reach the coordinator at wss://127.0.0.1:1"),
                 qPrintable(unreachable.err));

        const Run unknown = raven(d, {"watch", "999"});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.err.contains("no job 999") && unknown.err.contains("raven jobs"), qPrintable(unknown.err));

        const Run notAnId = raven(d, {"pull", "latest"});
        QCOMPARE(notAnId.exitCode, 1);
        QVERIFY2(notAnId.err.contains("is not a job id"), qPrintable(notAnId.err));

        const Run batch =
            raven(d, {"submit", "--model", spec, "--data", d.path("data"), "--batch-size", "48", "--budget", "1"});
        QCOMPARE(batch.exitCode, 1);
        QVERIFY2(batch.err.contains("not a multiple of the dataset's shard size"), qPrintable(batch.err));

        const Run poor =
            raven(d, {"submit", "--model", spec, "--data", d.path("data"), "--batch-size", "32", "--budget", "1000"});
        QCOMPARE(poor.exitCode, 1);
        QVERIFY2(poor.err.contains("exceeds your funds") && poor.err.contains("hint:"), qPrintable(poor.err));

        const Run noBudget = raven(d, {"submit", "--model", spec, "--data", d.path("data")});
        QCOMPARE(noBudget.exitCode, 1);
        QVERIFY2(noBudget.err.contains("--budget"), qPrintable(noBudget.err));

        // Learning-rate schedules: a form the CLI does not know is explained before anything
        // travels; one the coordinator refuses names its field; a good one arrives as written.
        const QStringList submit{"submit",       "--model", spec,       "--data", d.path("data"),
                                 "--batch-size", "32",      "--budget", "1",      "--lr-schedule"};
        const Run unknownSchedule = raven(d, submit + QStringList{"linear"});
        QCOMPARE(unknownSchedule.exitCode, 1);
        QVERIFY2(unknownSchedule.err.contains("unknown learning-rate schedule 'linear'") &&
                     unknownSchedule.err.contains("cosine:min=1e-5,warmup=100"),
                 qPrintable(unknownSchedule.err));
        const Run badGamma = raven(d, submit + QStringList{"step:every=10,gamma=1.5"});
        QCOMPARE(badGamma.exitCode, 1);
        QVERIFY2(badGamma.err.contains("gamma") && badGamma.err.contains("(0, 1]"), qPrintable(badGamma.err));
        const Run cosine = raven(d, submit + QStringList{"cosine:min=1e-4,warmup=2,start=0.1"});
        QVERIFY2(cosine.exitCode == 0, qPrintable(cosine.all()));
        requester::BlockingRequester r(d.url(), d.apiKey, d.knownHosts());
        const wire::LearningRateSchedule s = r.job(cosine.out.trimmed()).hyperparameters().lr_schedule();
        QCOMPARE(s.kind(), wire::LEARNING_RATE_SCHEDULE_KIND_COSINE);
        QCOMPARE(s.warmup_steps(), std::uint64_t(2));
        QCOMPARE(s.warmup_start_factor(), 0.1);
        QCOMPARE(s.min_learning_rate(), 1e-4);
    }
};

QTEST_GUILESS_MAIN(TestRequesterCli)
#include "tst_RequesterCli.moc"
