// The worker against a real Coordinator on loopback (TLS, SQLite, job files in a temporary folder):
// it trains a small job to completion with the weights of local training, its weights coming with
// each grant (or fetched after it, as older workers do); stop() hands back what it
// had not started and another worker finishes the job without waiting for deadlines; it reconnects
// when the coordinator goes away and comes back on the same port; it gives up, without a retry loop,
// on a bad token, a closed enrollment or a changed certificate; it keeps retrying an unreachable
// coordinator; with open enrollment it saves the token it was given and uses it next time. Every
// change of the session's phase is one WorkerPhase.h allows.
#include <QFile>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTest>

#include "coordinator/CoordinatorTestKit.h"
#include "coordinator/StepsAhead.h"
#include "worker/ContentCache.h"
#include "worker/Worker.h"

using namespace raven;
using raven::test::Deployment;
using raven::worker::Worker;
using raven::worker::WorkerOptions;

namespace {

// Records what a worker says, for assertions and for the failure message.
struct Watch {
    explicit Watch(Worker& w) {
        QObject::connect(&w, &Worker::statusMessage, [this](const QString& m) { messages << m; });
        QObject::connect(&w, &Worker::refused, [this](const QString& r) { refusals << r; });
        QObject::connect(&w, &Worker::connected, [this](const QString& id) { sessions << id; });
        QObject::connect(&w, &Worker::stopped, [this] { ++stopped; });
        QObject::connect(&w, &Worker::unitFinished, [this](const QString& id, int status, qint64, double) {
            units << id;
            statuses << status;
        });
        // Every phase the session goes through, each change checked against WorkerPhase's table.
        QObject::connect(&w, &Worker::phaseChanged, [this](worker::WorkerPhase from, worker::WorkerPhase to) {
            phases << worker::nameOf(to);
            if (!worker::canMove(from, to)) badMoves << worker::nameOf(from) + " -> " + worker::nameOf(to);
        });
    }
    int count(const QString& part) const {
        int n = 0;
        for (const QString& m : messages) n += m.contains(part) ? 1 : 0;
        return n;
    }
    QString log() const { return messages.join(QStringLiteral("\n  ")); }

    QStringList messages, refusals, sessions, units, phases, badMoves;
    QList<int> statuses;
    int stopped = 0;
};

}  // namespace

class TestWorkerSession : public QObject {
    Q_OBJECT

    WorkerOptions optionsFor(Deployment& d, const QString& name, const QString& token) {
        WorkerOptions o;
        o.coordinator = d.coordinator->url();
        o.token = token;
        o.knownHostsPath = d.knownHosts();
        o.cacheDir = d.workerDir(name) + "/cache";
        o.cacheBytes = 64 << 20;
        o.device = QStringLiteral("cpu");
        o.threads = 1;
        o.maxConcurrentLeases = 2;
        o.displayName = name;
        return o;
    }

    static bool waitForJobEnd(Deployment& d, qint64 job, int timeoutMs, QString* state) {
        QSignalSpy ended(d.coordinator.get(), &coordinator::Coordinator::jobEnded);
        return QTest::qWaitFor(
            [&] {
                for (const QList<QVariant>& e : ended)
                    if (e.at(0).toLongLong() == job) {
                        *state = e.at(1).toString();
                        return true;
                    }
                const std::optional<ledger::Job> j = d.coordinator->store().job(job);
                if (j && (j->state == ledger::JobState::Done)) {
                    *state = QStringLiteral("done");
                    return true;
                }
                return false;
            },
            timeoutMs);
    }

    static void expectLocalWeights(Deployment& d, test::SyncClient& requester, const std::string& job,
                                   const wire::Hyperparameters& h) {
        const QByteArray checkpoint = d.downloadCheckpoint(requester, job);
        QVERIFY(!checkpoint.isEmpty());
        const double diff =
            test::relativeDifference(test::checkpointWeights(checkpoint), test::localTraining(d.dataset, h));
        qInfo("max |worker-trained - local| / max |local| = %.3g", diff);
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
    }

    // Leases the coordinator's store records as handed back by a contributor (read beside it: WAL).
    static int leasesHandedBack(Deployment& d, const QString& contributor) {
        int n = -1;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("worker-test"));
            db.setDatabaseName(QDir(d.options.dataDir).filePath(QStringLiteral("coordinator.sqlite")));
            if (db.open()) {
                QSqlQuery q(db);
                q.prepare(
                    QStringLiteral("SELECT COUNT(*) FROM leases WHERE state = 'handed_back' AND contributor = ?"));
                q.addBindValue(contributor.toLongLong());
                if (q.exec() && q.next()) n = q.value(0).toInt();
            }
        }
        QSqlDatabase::removeDatabase(QStringLiteral("worker-test"));
        return n;
    }

private slots:
    void trainsAJobToCompletion() {
        Deployment d;
        d.start();
        auto requester = d.requester();
        const wire::Hyperparameters h = test::adamHyperparameters(2);
        const std::string job = d.submitJob(*requester, h);
        Worker worker(optionsFor(d, "w1", d.coordinator->addContributor("w1")));
        Watch watch(worker);
        worker.start();
        QString state;
        QVERIFY2(waitForJobEnd(d, std::stoll(job), 120000, &state), qPrintable(watch.log()));
        QCOMPARE(state, QStringLiteral("done"));

        // 11 shards an epoch, one per unit (the last holds 10 samples), two epochs. The job may end
        // before the last ResultAck reaches the worker.
        QVERIFY(QTest::qWaitFor([&] { return watch.units.size() == 22; }, 10000));
        const Worker::Stats& s = worker.stats();
        QCOMPARE(s.unitsAccepted, 22);
        QCOMPARE(s.unitsRejected, 0);
        QCOMPARE(s.unitsDuplicate, 0);
        QCOMPARE(s.samples, 660);
        QVERIFY(s.flops > 0);
        QVERIFY(s.microCredits > 0);
        const ledger::ContributorStats earned = d.coordinator->ledger().contributorStats(
            worker.contributorId().toLongLong(), 1, QDateTime::currentDateTimeUtc());
        QCOMPARE(earned.earned, s.microCredits);
        QCOMPARE(earned.workUnitsAccepted, s.unitsAccepted);
        QVERIFY(s.bytesSent >= 22 * 163 * 4);
        QVERIFY(s.bytesReceived > 0);
        // This coordinator takes results without their hash (TLS guards them): none was hashed.
        QCOMPARE(s.resultsHashed, 0);
        QCOMPARE(watch.units.size(), 22);
        QVERIFY(watch.statuses.count(wire::RESULT_STATUS_ACCEPTED) == 22);
        QVERIFY(watch.refusals.isEmpty());
        QVERIFY(!worker.deviceSummary().isEmpty());
        expectLocalWeights(d, *requester, job, h);

        worker.stop();
        QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 10000));
        // One session, from connecting to stopped (the benchmark may or may not have made it wait).
        QStringList phases = watch.phases;
        phases.removeAll(QStringLiteral("awaiting_device"));
        QCOMPARE(phases, QStringList({"connecting", "authenticating", "registering", "registered", "draining",
                                      "closing", "stopped"}));
        QVERIFY2(watch.badMoves.isEmpty(), qPrintable(watch.badMoves.join(", ")));
        QCOMPARE(worker.phase(), worker::WorkerPhase::Stopped);
    }

    void weightsComeWithTheGrant_data() {
        QTest::addColumn<bool>("push");
        QTest::newRow("with the grant") << true;
        QTest::newRow("an older worker fetches them") << false;
    }

    // A worker that asks for its weights with the grant never sends FetchWeights: each version it
    // computes arrives once, in the grant of its first unit of that version. A worker that does not ask
    // (as older workers) fetches them after the grant. Both train to the weights of local training.
    void weightsComeWithTheGrant() {
        QFETCH(bool, push);
        Deployment d;
        d.start();
        auto requester = d.requester();
        const wire::Hyperparameters h = test::adamHyperparameters(1);
        const std::string job = d.submitJob(*requester, h);
        WorkerOptions o = optionsFor(d, "w1", d.coordinator->addContributor("w1"));
        o.weightsWithGrant = push;
        Worker worker(o);
        Watch watch(worker);
        worker.start();
        QString state;
        QVERIFY2(waitForJobEnd(d, std::stoll(job), 120000, &state), qPrintable(watch.log()));
        QCOMPARE(state, QStringLiteral("done"));
        QVERIFY(QTest::qWaitFor([&] { return watch.units.size() == 11; }, 10000));
        const Worker::Stats& s = worker.stats();
        QCOMPARE(s.unitsAccepted, 11);
        const qint64 versions = d.coordinator->store().job(std::stoll(job))->modelVersion;
        qInfo("%lld versions; weights pushed %lld, fetched %lld", static_cast<long long>(versions),
              static_cast<long long>(s.weightsPushed), static_cast<long long>(s.weightsFetched));
        const coordinator::StepsAhead& ahead = d.coordinator->stepsAhead();
        qInfo("steps taken ahead of their last acceptance: %llu adopted, %llu dropped",
              static_cast<unsigned long long>(ahead.adopted()), static_cast<unsigned long long>(ahead.dropped()));
        if (push) {
            QCOMPARE(s.weightsFetched, 0);
            QVERIFY(s.weightsPushed > 0);
            // A lone worker's last result of a step mostly comes last: such steps are taken ahead
            // (2-3 of the 6 in every run here), and the weights below still match local training.
            QVERIFY(ahead.adopted() > 0);
            QVERIFY(s.weightsPushed <= versions);  // a version held is not sent again
        } else {
            QCOMPARE(s.weightsPushed, 0);
            QVERIFY(s.weightsFetched > 0);
        }
        expectLocalWeights(d, *requester, job, h);
        worker.stop();
        QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 10000));
    }

    // With each grant come the shards of the next step's unit at the same place (the coordinator's
    // PrefetchHints.h): a lone worker fetches them while it computes, and the coordinator serves them
    // although no lease of the worker lists them yet. The training is unchanged.
    void nextStepShardsArePrefetched() {
        Deployment d;
        d.start();
        auto requester = d.requester();
        const wire::Hyperparameters h = test::adamHyperparameters(1);
        const std::string job = d.submitJob(*requester, h);
        Worker worker(optionsFor(d, "w1", d.coordinator->addContributor("w1")));
        Watch watch(worker);
        worker.start();
        QString state;
        QVERIFY2(waitForJobEnd(d, std::stoll(job), 120000, &state), qPrintable(watch.log()));
        QCOMPARE(state, QStringLiteral("done"));
        QVERIFY(QTest::qWaitFor([&] { return watch.units.size() == 11; }, 10000));
        const qint64 versions = d.coordinator->store().job(std::stoll(job))->modelVersion;
        qInfo("%lld versions; shards prefetched %lld", static_cast<long long>(versions),
              static_cast<long long>(worker.stats().shardsPrefetched));
        // Units of one shard here: every shard after the first step's came on a hint, each once.
        const auto firstStep = d.coordinator->store().workUnits(std::stoll(job), 0).size();
        QCOMPARE(worker.stats().shardsPrefetched, 11 - static_cast<qint64>(firstStep));
        // Each granted unit's shard was either in memory at its grant or fetched after it.
        QCOMPARE(worker.stats().shardsInMemoryAtGrant + worker.stats().shardsAfterGrant, 11);
        QVERIFY(worker.stats().shardsAfterGrant >= static_cast<qint64>(firstStep));
        QCOMPARE(worker.stats().unitsAccepted, 11);
        expectLocalWeights(d, *requester, job, h);
        worker.stop();
        QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 10000));
    }

    // A unit's result is encoded, compressed and sent while the next unit computes: the compute
    // thread takes up the next unit without waiting for the last one's encoding. Of a job's 22 units
    // (steps of two or three one-shard units) at least one starts computing before the previous result went
    // out (it cannot when the encoding is on the compute thread: the result leaves first). The
    // training is unchanged.
    void resultsAreSentWhileTheNextUnitComputes() {
        Deployment d;
        d.start();
        auto requester = d.requester();
        const wire::Hyperparameters h = test::adamHyperparameters(2);
        const std::string job = d.submitJob(*requester, h);
        // A step's units come in one grant (asked for only when none is on hand, up to three), so that
        // the next unit is ready when one's gradient is done.
        WorkerOptions o = optionsFor(d, "w1", d.coordinator->addContributor("w1"));
        o.maxConcurrentLeases = 3;
        o.workBufferLow = 1;
        Worker worker(o);
        Watch watch(worker);
        QStringList events;  // "started U", "ended U", "sent U", in order
        connect(&worker, &Worker::computeStarted, this,
                [&](const QString& id, const QString&) { events << "started " + id; });
        connect(&worker, &Worker::computeEnded, this, [&](const QString& id, double) { events << "ended " + id; });
        connect(&worker, &Worker::resultSent, this, [&](const QString& id) { events << "sent " + id; });
        worker.start();
        QString state;
        QVERIFY2(waitForJobEnd(d, std::stoll(job), 120000, &state), qPrintable(watch.log()));
        QCOMPARE(state, QStringLiteral("done"));
        QVERIFY(QTest::qWaitFor([&] { return watch.units.size() == 22; }, 10000));
        int overlapped = 0;
        for (qsizetype i = 0; i < events.size(); ++i) {
            if (!events[i].startsWith("ended ")) continue;
            const QString id = events[i].mid(6);
            const qsizetype sent = events.indexOf("sent " + id, i);
            QVERIFY2(sent > i, qPrintable("no result sent for " + id + ": " + events.join(", ")));
            for (qsizetype j = i + 1; j < sent; ++j) overlapped += events[j].startsWith("started ") ? 1 : 0;
        }
        qInfo("%d of 22 units started before the previous result was sent", overlapped);
        QVERIFY2(overlapped > 0, qPrintable(events.join(", ")));
        QCOMPARE(events.filter(QRegularExpression("^sent ")).size(), 22);
        QCOMPARE(worker.stats().unitsAccepted, 22);
        expectLocalWeights(d, *requester, job, h);
        worker.stop();
        QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 10000));
    }

    // Two lanes (ComputeLanes.h), a thread each: units of one grant compute side by side, at least once
    // two at a time, and the job's weights are those of local training (the bits do not depend on
    // which lane computed what).
    void unitsComputeSideBySideInLanes() {
        Deployment d;
        d.start();
        auto requester = d.requester();
        const wire::Hyperparameters h = test::adamHyperparameters(2);
        const std::string job = d.submitJob(*requester, h);
        WorkerOptions o = optionsFor(d, "w1", d.coordinator->addContributor("w1"));
        o.threads = 2;
        o.computeLanes = 2;
        o.maxConcurrentLeases = 3;  // a step's units in one grant, as above
        o.workBufferLow = 1;
        Worker worker(o);
        Watch watch(worker);
        int computing = 0, mostAtOnce = 0;
        connect(&worker, &Worker::computeStarted, this, [&](const QString&, const QString&) {
            mostAtOnce = std::max(mostAtOnce, ++computing);
        });
        connect(&worker, &Worker::computeEnded, this, [&](const QString&, double) { --computing; });
        worker.start();
        QString state;
        QVERIFY2(waitForJobEnd(d, std::stoll(job), 120000, &state), qPrintable(watch.log()));
        QCOMPARE(state, QStringLiteral("done"));
        QVERIFY(QTest::qWaitFor([&] { return watch.units.size() == 22; }, 10000));
        qInfo("at most %d units computing at once; device: %s", mostAtOnce, qPrintable(worker.deviceSummary()));
        QCOMPARE(mostAtOnce, 2);
        QVERIFY(worker.deviceSummary().contains("2 units side by side"));
        QCOMPARE(worker.stats().unitsAccepted, 22);
        expectLocalWeights(d, *requester, job, h);
        worker.stop();
        QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 10000));
    }

    void cacheHoldsWhatWasFetched() {
        // Once the worker is gone (its lock released), its cache holds each training shard of the
        // dataset and the manifest, for the next run.
        Deployment d;
        d.start();
        auto requester = d.requester();
        const std::string job = d.submitJob(*requester, test::adamHyperparameters(1));
        const WorkerOptions options = optionsFor(d, "w1", d.coordinator->addContributor("w1"));
        {
            Worker worker(options);
            Watch watch(worker);
            worker.start();
            QString state;
            QVERIFY2(waitForJobEnd(d, std::stoll(job), 60000, &state), qPrintable(watch.log()));
            QVERIFY(QTest::qWaitFor([&] { return watch.units.size() == 11; }, 10000));
            worker.stop();
            QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 10000));
            QCOMPARE(worker.stats().unitsAccepted, 11);
        }
        worker::ContentCache cache(options.cacheDir, options.cacheBytes);
        QCOMPARE(cache.names("shards/").size(), 11);
        QCOMPARE(cache.names("manifests/").size(), 1);
    }

    void stopHandsBackAndAnotherWorkerFinishes() {
        Deployment d;
        d.options.unitDeadlineMs = 120000;  // a unit not handed back would stall the job for two minutes
        d.start();
        auto requester = d.requester();
        wire::Hyperparameters h = test::adamHyperparameters(1);
        h.set_global_batch(128);  // four units a step
        const std::string job = d.submitJob(*requester, h);

        WorkerOptions first = optionsFor(d, "leaver", d.coordinator->addContributor("leaver"));
        first.maxConcurrentLeases = 4;
        Worker leaver(first);
        Watch leaverWatch(leaver);
        // Stop while the first lease request is on its way (sent right after registering): the units
        // it grants arrive at a worker that is stopping, which hands them all back. (Stopping later is
        // no test: these units compute in a millisecond, so everything leased is soon computed.)
        QObject::connect(&leaver, &Worker::connected, &leaver,
                         [&] { QTimer::singleShot(0, &leaver, [&] { leaver.stop(); }); });
        leaver.start();
        QVERIFY2(QTest::qWaitFor([&] { return leaverWatch.stopped == 1; }, 60000), qPrintable(leaverWatch.log()));
        const int handedBack = leasesHandedBack(d, leaver.contributorId());
        qInfo("the leaver finished %lld unit(s) and handed back %d", leaver.stats().unitsAccepted, handedBack);
        QVERIFY2(handedBack >= 1, qPrintable(leaverWatch.log()));
        const qint64 leaverUnits = leaver.stats().unitsAccepted;
        QVERIFY(leaverUnits < 11);

        QElapsedTimer clock;
        clock.start();
        Worker finisher(optionsFor(d, "finisher", d.coordinator->addContributor("finisher")));
        Watch finisherWatch(finisher);
        finisher.start();
        QString state;
        QVERIFY2(waitForJobEnd(d, std::stoll(job), 60000, &state), qPrintable(finisherWatch.log()));
        QCOMPARE(state, QStringLiteral("done"));
        QVERIFY(clock.elapsed() < 60000);
        QVERIFY(QTest::qWaitFor([&] { return leaverUnits + finisher.stats().unitsAccepted >= 11; }, 10000));
        QCOMPARE(leaverUnits + finisher.stats().unitsAccepted, 11);  // every unit counted exactly once
        expectLocalWeights(d, *requester, job, h);
    }

    void reconnectsWhenTheCoordinatorComesBack() {
        Deployment d;
        d.start();
        auto requester = d.requester();
        const wire::Hyperparameters h = test::adamHyperparameters(3);
        const std::string job = d.submitJob(*requester, h);
        requester.reset();
        Worker worker(optionsFor(d, "w", d.coordinator->addContributor("w")));
        Watch watch(worker);
        worker.start();
        QVERIFY2(QTest::qWaitFor([&] { return !watch.units.isEmpty(); }, 60000), qPrintable(watch.log()));

        // The coordinator goes away (a restart), then comes back on the same data directory and port.
        const quint16 port = static_cast<quint16>(d.coordinator->url().port());
        d.coordinator.reset();
        QVERIFY(QTest::qWaitFor([&] { return watch.count("lost the connection") == 1; }, 10000));
        QTest::qWait(1500);
        QVERIFY2(watch.count("cannot reach") >= 1, qPrintable(watch.log()));
        d.options.port = port;
        d.start();

        QString state;
        QVERIFY2(waitForJobEnd(d, std::stoll(job), 120000, &state), qPrintable(watch.log()));
        QCOMPARE(state, QStringLiteral("done"));
        QCOMPARE(watch.sessions.size(), 2);
        QCOMPARE(watch.sessions[0], watch.sessions[1]);  // the same contributor, authenticated again
        QVERIFY(watch.refusals.isEmpty());
        QVERIFY2(watch.phases.contains("reconnecting"), qPrintable(watch.phases.join(", ")));
        QCOMPARE(watch.phases.count("registered"), 2);
        QVERIFY2(watch.badMoves.isEmpty(), qPrintable(watch.badMoves.join(", ")));
        auto again = d.requester();
        expectLocalWeights(d, *again, job, h);
    }

    void badTokenIsRefusedWithoutRetry() {
        Deployment d;
        d.start();
        Worker worker(optionsFor(d, "w", QStringLiteral("not-a-token")));
        Watch watch(worker);
        worker.start();
        QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 20000));
        QCOMPARE(watch.refusals.size(), 1);
        QVERIFY2(watch.refusals[0].contains("refused the contributor token"), qPrintable(watch.refusals[0]));
        QTest::qWait(1500);  // no second attempt follows
        QCOMPARE(watch.count("retrying"), 0);
        QVERIFY(watch.sessions.isEmpty());
        QCOMPARE(watch.stopped, 1);
        QVERIFY2(watch.phases.mid(watch.phases.size() - 2) == QStringList({"closing", "stopped"}),
                 qPrintable(watch.phases.join(", ")));
        QVERIFY(!watch.phases.contains("registered"));
        QVERIFY2(watch.badMoves.isEmpty(), qPrintable(watch.badMoves.join(", ")));
    }

    void unreachableCoordinatorIsRetried() {
        Deployment d;
        d.start();
        WorkerOptions o = optionsFor(d, "w", d.coordinator->addContributor("w"));
        d.coordinator.reset();  // nobody listens there now
        Worker worker(o);
        Watch watch(worker);
        worker.start();
        QVERIFY2(QTest::qWaitFor([&] { return watch.count("retrying in") >= 3; }, 10000), qPrintable(watch.log()));
        QVERIFY(watch.refusals.isEmpty());
        QVERIFY2(watch.count("(attempt 3)") == 1, qPrintable(watch.log()));
        worker.stop();
        QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 5000));
    }

    void changedCertificateIsRefused() {
        Deployment d;
        d.start();
        const QUrl url = d.coordinator->url();
        QFile pins(d.knownHosts());
        QVERIFY(pins.open(QIODevice::WriteOnly));
        pins.write(QStringLiteral("127.0.0.1:%1 sha256:%2\n")
                       .arg(url.port())
                       .arg(QString("AB:").repeated(31) + "AB")
                       .toUtf8());
        pins.close();
        Worker worker(optionsFor(d, "w", d.coordinator->addContributor("w")));
        Watch watch(worker);
        worker.start();
        QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 20000));
        QCOMPARE(watch.refusals.size(), 1);
        QVERIFY2(watch.refusals[0].contains("certificate changed"), qPrintable(watch.refusals[0]));
        QCOMPARE(watch.count("retrying"), 0);
    }

    void enrollmentSavesTheToken() {
        Deployment d;
        d.start();
        {  // without open enrollment the coordinator says so, once
            WorkerOptions o = optionsFor(d, "closed", QString());
            o.enroll = true;
            o.tokenFile = d.workerDir("closed") + "/token";
            Worker worker(o);
            Watch watch(worker);
            worker.start();
            QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 20000));
            QCOMPARE(watch.refusals.size(), 1);
            QVERIFY2(watch.refusals[0].contains("open enrollment"), qPrintable(watch.refusals[0]));
            QVERIFY(!QFile::exists(o.tokenFile));
        }
        d.coordinator.reset();
        d.options.openEnrollment = true;
        d.start();
        WorkerOptions o = optionsFor(d, "open", QString());
        o.enroll = true;
        o.tokenFile = d.workerDir("open") + "/token";
        QString enrolledAs;
        {
            Worker worker(o);
            Watch watch(worker);
            worker.start();
            QVERIFY2(QTest::qWaitFor([&] { return !watch.sessions.isEmpty(); }, 20000), qPrintable(watch.log()));
            enrolledAs = watch.sessions[0];
            QVERIFY(!worker.token().isEmpty());
            QFile file(o.tokenFile);
            QVERIFY(file.open(QIODevice::ReadOnly));
            QCOMPARE(QString::fromUtf8(file.readAll()).trimmed(), worker.token());
            QCOMPARE(file.permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup),
                     QFileDevice::Permissions());
            worker.stop();
            QVERIFY(QTest::qWaitFor([&] { return watch.stopped == 1; }, 10000));
        }
        // Next time the saved token authenticates the same contributor.
        Worker again(o);
        Watch watch(again);
        again.start();
        QVERIFY2(QTest::qWaitFor([&] { return !watch.sessions.isEmpty(); }, 20000), qPrintable(watch.log()));
        QCOMPARE(watch.sessions[0], enrolledAs);
        QCOMPARE(watch.count("enrolled"), 0);
    }
};

QTEST_GUILESS_MAIN(TestWorkerSession)
#include "tst_WorkerSession.moc"
