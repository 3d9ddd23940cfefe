// The coordinator under attack, over real TLS sockets on loopback, while an honest requester's job is
// trained by an honest worker: every attack is answered or cut off, and the job keeps taking steps
// during it (each test counts them). docs/security.md lists the threats these cover.
#include <QProcess>
#include <QTcpSocket>
#include <QtEndian>
#include <QtTest>

#include "CoordinatorTestKit.h"
#include "protocol/BoundedText.h"
#include "protocol/Framing.h"
#include "protocol/TestPeers.h"

using namespace raven;
using namespace raven::test;

namespace {

wire::ErrorCode codeOf(const wire::Envelope& e) {
    return e.has_error() ? e.error().code() : wire::ERROR_CODE_UNSPECIFIED;
}

// Everything a refusal says, to check that it stays small whatever the peer sent.
std::size_t refusalBytes(const wire::Envelope& e) {
    if (e.has_error()) return e.error().message().size() + e.error().hint().size();
    if (e.has_hello_reply()) return e.hello_reply().reason().size();
    if (e.has_result_ack()) return e.result_ack().reason().size();
    return e.ByteSizeLong();
}

// A TCP connection from a chosen loopback address (127.0.0.0/8 is all loopback on Linux), so that a
// test's attacker and its honest peers count as different addresses.
std::unique_ptr<QTcpSocket> tcpFrom(const QString& source, quint16 port) {
    auto socket = std::make_unique<QTcpSocket>();
    socket->bind(QHostAddress(source), 0);
    socket->connectToHost(QHostAddress::LocalHost, port);
    return socket;
}

}  // namespace

class HostilePeersTest : public QObject {
    Q_OBJECT

    std::unique_ptr<Deployment> d_;
    std::unique_ptr<SyncClient> requester_;
    std::unique_ptr<TestWorker> honest_;
    std::string job_;

    // An honest requester's long job, trained by an honest worker, from 127.0.0.1.
    void startHonestTraffic(std::uint32_t epochs = 200) {
        requester_ = d_->requester();
        job_ = d_->submitJob(*requester_, adamHyperparameters(epochs), 90 * ledger::kMicroCreditsPerCredit);
        honest_ = std::make_unique<TestWorker>(d_->coordinator->url(),
                                               d_->coordinator->addContributor(QStringLiteral("honest")).toStdString(),
                                               d_->workerDir(QStringLiteral("honest")), TestWorker::Behaviour{});
        QTRY_VERIFY_WITH_TIMEOUT(steps() >= 2, 20000);
    }
    qint64 steps() const { return d_->coordinator->store().job(std::stoll(job_))->modelVersion; }
    // The honest parties still make progress: more steps, the requester answered, no failures.
    void checkHonestProgress(qint64 stepsBefore, const char* attack) {
        QTRY_VERIFY_WITH_TIMEOUT(steps() > stepsBefore + 2, 20000);
        qInfo("%s: the honest job took %lld steps during the attack", attack,
              static_cast<long long>(steps() - stepsBefore));
        QVERIFY(requester_->call(listJobsRequest()).has_job_list());
        QVERIFY2(honest_->failures.empty(), honest_->failureText().c_str());
        QCOMPARE(honest_->rejected, 0);
    }

private slots:
    void init() {
        d_ = std::make_unique<Deployment>();
        d_->options.peers.handshakeTimeoutMs = 1000;
        d_->options.peers.loginTimeoutMs = 1500;
        d_->options.peers.maxConnectionsPerAddress = 16;
    }
    void cleanup() {
        if (honest_) honest_->stop();
        honest_.reset();
        requester_.reset();
        if (d_->coordinator)
            QVERIFY2(d_->coordinator->ledger().audit().ok(),
                     qPrintable(d_->coordinator->ledger().audit().problems.join("; ")));
        d_.reset();
    }

    void peerTextEchoedBackIsBounded() {
        d_->start();
        startHonestTraffic();
        const qint64 before = steps();
        const std::string huge(7 << 20, 'v');

        // Before login: a Hello whose version string the refusal quotes.
        RawPeer raw;
        QVERIFY(raw.open(d_->coordinator->url()));
        wire::Envelope hello;
        hello.set_request_id(1);
        *hello.mutable_hello() = protocol::makeHello(protocol::PeerInfo{wire::ROLE_CONTRIBUTOR, {}, {}, "x"});
        hello.mutable_hello()->set_protocol_version(99);
        hello.mutable_hello()->set_min_protocol_version(99);
        hello.mutable_hello()->set_software_version(huge);
        raw.sendEnvelope(hello);
        QTRY_VERIFY_WITH_TIMEOUT(!raw.received.isEmpty(), 10000);
        QVERIFY(raw.received.first().has_hello_reply());
        QVERIFY(!raw.received.first().hello_reply().accepted());
        QVERIFY(refusalBytes(raw.received.first()) < 1024);
        QVERIFY(raw.waitClosed());

        // After login: a spec's unknown key, and a unit id spelled with millions of leading zeros.
        wire::Envelope spec = uploadSpecRequest(R"({"name": "s", "input": {"shape": [6]}, "layers": [{"name": "a",
            "kind": "linear", "out": 3, ")" + huge +
                                                R"(": 1}], "loss": {"kind": "cross_entropy"}})");
        const wire::Envelope refused = requester_->call(spec);
        QCOMPARE(codeOf(refused), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY2(refusalBytes(refused) <= 2 * protocol::kMaxReasonBytes, text(refused).c_str());
        auto contributor = d_->contributor();
        wire::Envelope part;
        part.mutable_submit_result()->set_work_unit_id(std::string(6 << 20, '0') + "1");
        const wire::Envelope refusedPart = contributor->call(part);
        QCOMPARE(codeOf(refusedPart), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY(refusalBytes(refusedPart) < 1024);
        checkHonestProgress(before, "echoed peer text");
    }

    void burstsOfUnfinishedTlsDoNotStopTheServer() {
        d_->start();
        startHonestTraffic();
        const qint64 before = steps();
        const quint16 port = static_cast<quint16>(d_->coordinator->url().port());
        // 100 connections that start TLS with garbage or never speak, then go: the pattern that left
        // Qt's secure QWebSocketServer refusing everyone for good.
        for (int round = 0; round < 5; ++round) {
            std::vector<std::unique_ptr<QTcpSocket>> burst;
            for (int i = 0; i < 20; ++i) {
                burst.push_back(tcpFrom(QStringLiteral("127.0.0.%1").arg(2 + i % 4), port));
                if (i % 2 == 0) burst.back()->write(QByteArray("\x16\x03\x01\x02\x00garbage", 12));
            }
            QTest::qWait(100);
            for (auto& s : burst) s->abort();
        }
        // Still accepting: a new requester connects, authenticates and is served.
        auto late = d_->requester();
        QVERIFY(late->call(listJobsRequest()).has_job_list());
        checkHonestProgress(before, "TLS burst");
    }

    void idleStrangersAreClosedAndOneAddressCannotTakeEverySocket() {
        d_->start();
        startHonestTraffic();
        const qint64 before = steps();
        const quint16 port = static_cast<quint16>(d_->coordinator->url().port());
        // Never start TLS: closed after handshakeTimeoutMs.
        std::vector<std::unique_ptr<QTcpSocket>> idle;
        for (int i = 0; i < 10; ++i) idle.push_back(tcpFrom(QStringLiteral("127.0.0.3"), port));
        QTRY_VERIFY_WITH_TIMEOUT(
            std::all_of(idle.begin(), idle.end(),
                        [](const auto& s) { return s->state() == QAbstractSocket::UnconnectedState; }),
            5000);
        // Past the per-address bound: the extra ones are closed at once, before any TLS.
        std::vector<std::unique_ptr<QTcpSocket>> flood;
        for (int i = 0; i < 40; ++i) flood.push_back(tcpFrom(QStringLiteral("127.0.0.4"), port));
        QTest::qWait(500);  // well inside the handshake timeout
        const auto open = std::count_if(flood.begin(), flood.end(),
                                        [](const auto& s) { return s->state() == QAbstractSocket::ConnectedState; });
        QVERIFY2(open <= d_->options.peers.maxConnectionsPerAddress, qPrintable(QString::number(open)));
        // Past Hello but never authenticated: closed after loginTimeoutMs.
        SyncClient stranger(d_->coordinator->url(), wire::ROLE_CONTRIBUTOR, d_->knownHosts());
        QVERIFY(stranger.ready());
        QTRY_VERIFY_WITH_TIMEOUT(!stranger.ready(), 5000);
        // Meanwhile others from the same machine as the flood's victims connect as usual.
        auto late = d_->requester();
        QVERIFY(late->call(listJobsRequest()).has_job_list());
        checkHonestProgress(before, "idle strangers and a flood from one address");
    }

    void poisonedResultsAreRejectedUnpaidAndTheJobFinishesExactly() {
        d_->start();
        requester_ = d_->requester();
        const wire::Hyperparameters h = adamHyperparameters(2);
        job_ = d_->submitJob(*requester_, h);
        auto cheater = d_->contributor();
        UnitComputer cache(d_->workerDir(QStringLiteral("cheater")));
        // The cheater takes the first unit and tries every poison on it.
        const wire::Envelope grant = cheater->call(leaseRequest(1));
        QCOMPARE(grant.lease_grant().units_size(), 1);
        const wire::WorkUnit unit = grant.lease_grant().units(0);
        QVERIFY(fetchForUnit(*cheater, cache, unit));
        const protocol::WorkResult good = cache.compute(unit);
        std::vector<std::pair<protocol::WorkResult, std::string>> poisons;
        protocol::WorkResult huge = good;
        for (float& g : huge.gradient) g *= 1e30f;  // finite, and enough to make Adam's step NaN
        poisons.emplace_back(huge, "norm");
        protocol::WorkResult zero = good;
        std::fill(zero.gradient.begin(), zero.gradient.end(), 0.0f);
        poisons.emplace_back(zero, "no work");
        protocol::WorkResult loss = good;
        loss.loss = 1e12;
        poisons.emplace_back(loss, "loss");
        protocol::WorkResult correct = good;
        correct.correct = good.sampleCount + 5;
        poisons.emplace_back(correct, "correct");
        for (const auto& [poison, why] : poisons) {
            const wire::Envelope ack = submit(*cheater, poison);
            QCOMPARE(ack.result_ack().status(), wire::RESULT_STATUS_REJECTED);
            QVERIFY2(ack.result_ack().reason().find(why) != std::string::npos, ack.result_ack().reason().c_str());
            QCOMPARE(ack.result_ack().credited_micro_credits(), 0);
            // A rejected result ends the lease; the cheater leases the unit again for the next try.
            const wire::Envelope again = cheater->call(leaseRequest(1));
            QCOMPARE(again.lease_grant().units_size(), 1);
        }
        // The honest worker trains the whole job; the result equals training on one machine.
        honest_ = std::make_unique<TestWorker>(d_->coordinator->url(),
                                               d_->coordinator->addContributor(QStringLiteral("honest")).toStdString(),
                                               d_->workerDir(QStringLiteral("honest")), TestWorker::Behaviour{});
        QTRY_VERIFY_WITH_TIMEOUT(d_->jobInfo(*requester_, job_)->state() == wire::JOB_STATE_COMPLETED, 60000);
        QCOMPARE(honest_->rejected, 0);
        const double diff = relativeDifference(checkpointWeights(d_->downloadCheckpoint(*requester_, job_)),
                                               localTraining(d_->dataset, h));
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
    }

    void aUnitThatEveryoneFailsFailsItsJobAndRefundsIt() {
        d_->options.shardsPerUnit = 2;  // one unit per step: every contributor gets the same unit
        d_->start();
        requester_ = d_->requester();
        job_ = d_->submitJob(*requester_, adamHyperparameters(2));
        for (int i = 0; i < 8; ++i) {
            auto worker = d_->contributor();
            const wire::Envelope grant = worker->call(leaseRequest(1));
            QCOMPARE(grant.lease_grant().units_size(), 1);
            protocol::WorkResult wrong;
            wrong.workUnitId = grant.lease_grant().units(0).id();
            wrong.gradient.assign(16 * 6 + 16 + 3 * 16 + 3, 0.01f);
            wrong.sampleCount = 1;  // the unit holds 64
            wrong.loss = 1.0;
            QCOMPARE(submit(*worker, wrong).result_ack().status(), wire::RESULT_STATUS_REJECTED);
        }
        QTRY_COMPARE_WITH_TIMEOUT(d_->jobInfo(*requester_, job_)->state(), wire::JOB_STATE_FAILED, 5000);
        QVERIFY2(d_->jobInfo(*requester_, job_)->message().find("cannot proceed") != std::string::npos,
                 d_->jobInfo(*requester_, job_)->message().c_str());
        QCOMPARE(d_->coordinator->ledger().jobSpend(std::stoll(job_)).escrow, 0);
    }

    void aUnitThatNoOneCanComputeFailsItsJobButStoppingWorkersDoNot() {
        d_->options.shardsPerUnit = 2;  // one unit per step: every contributor gets the same unit
        d_->start();
        requester_ = d_->requester();
        job_ = d_->submitJob(*requester_, adamHyperparameters(2));
        auto handBack = [](SyncClient& worker, const std::string& unit, bool couldNotCompute) {
            wire::Envelope e;
            e.mutable_lease_hand_back()->add_work_unit_ids(unit);
            e.mutable_lease_hand_back()->set_reason("cannot compute it: VK_ERROR_DEVICE_LOST");
            e.mutable_lease_hand_back()->set_could_not_compute(couldNotCompute);
            QVERIFY(worker.call(e).has_ack());
        };
        std::string unit;
        // Eight workers that stop and give the unit back are not its fault...
        for (int i = 0; i < 8; ++i) {
            auto worker = d_->contributor();
            const wire::Envelope grant = worker->call(leaseRequest(1));
            QCOMPARE(grant.lease_grant().units_size(), 1);
            unit = grant.lease_grant().units(0).id();
            handBack(*worker, unit, false);
        }
        QCOMPARE(d_->jobInfo(*requester_, job_)->state(), wire::JOB_STATE_RUNNING);
        // ...nor is a "could not compute" from contributors that never held it.
        for (int i = 0; i < 8; ++i) handBack(*d_->contributor(), unit, true);
        QCOMPARE(d_->jobInfo(*requester_, job_)->state(), wire::JOB_STATE_RUNNING);
        // Eight different contributors that held it and could not compute it: the job fails, refunded.
        for (int i = 0; i < 8; ++i) {
            auto worker = d_->contributor();
            const wire::Envelope grant = worker->call(leaseRequest(1));
            QCOMPARE(grant.lease_grant().units_size(), 1);
            handBack(*worker, grant.lease_grant().units(0).id(), true);
        }
        QTRY_COMPARE_WITH_TIMEOUT(d_->jobInfo(*requester_, job_)->state(), wire::JOB_STATE_FAILED, 5000);
        const std::string why = d_->jobInfo(*requester_, job_)->message();
        QVERIFY2(why.find("impossible to compute for 8 different contributors") != std::string::npos, why.c_str());
        QVERIFY2(why.find("VK_ERROR_DEVICE_LOST") != std::string::npos, why.c_str());
        QCOMPARE(d_->coordinator->ledger().jobSpend(std::stoll(job_)).escrow, 0);
    }

    void hugeModelsAreRefusedBeforeAnythingIsAllocated() {
        d_->start();
        startHonestTraffic();
        const qint64 before = steps();
        const std::string wide = R"({"name": "wide", "input": {"shape": [6]}, "layers": [
            {"name": "fc1", "kind": "linear", "out": 2000000000}, {"name": "fc2", "kind": "linear", "out": 3}],
            "loss": {"kind": "cross_entropy"}})";
        const wire::Envelope refused = requester_->call(uploadSpecRequest(wide));
        QCOMPARE(codeOf(refused), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY2(refused.error().message().find("parameters") != std::string::npos ||
                     refused.error().message().find("activations") != std::string::npos,
                 text(refused).c_str());
        QVERIFY(!refused.error().hint().empty());
        checkHonestProgress(before, "huge spec");
    }

    void jobsWhoseUnitsNoVolunteerCanHoldAreRefusedAndNothingIsCharged() {
        d_->options.jobs.maxUnitFlops = 1000;  // below one unit of the synthetic MLP
        d_->start();
        auto requester = d_->requester();
        uploadDataset(*requester, d_->manifest, *d_->published);
        const wire::Envelope spec = requester->call(uploadSpecRequest(testing::kSyntheticMlpSpec));
        QVERIFY(spec.has_upload_model_spec_reply());
        wire::Envelope balance;
        balance.mutable_balance_query();
        const auto fundsBefore = requester->call(balance).balance().micro_credits();
        const wire::Envelope job = requester->call(createJobRequest(d_->manifest.id.toStdString(),
                                                                    spec.upload_model_spec_reply().model_spec_sha256(),
                                                                    adamHyperparameters(1), 10));
        QCOMPARE(codeOf(job), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY2(job.error().message().find("FLOPs") != std::string::npos, text(job).c_str());
        QCOMPARE(requester->call(balance).balance().micro_credits(), fundsBefore);
    }

    void aPeerThatDoesNotReadIsCutOffInsteadOfBuffered() {
        d_->options.peers.maxQueuedBytes = 1 << 20;
        d_->start();
        startHonestTraffic();
        const qint64 before = steps();
        // A contributor with a lease asks for the unit's weights 20,000 times and reads nothing.
        std::string token;
        auto holder = d_->contributor(&token);
        const wire::Envelope grant = holder->call(leaseRequest(1));
        QCOMPARE(grant.lease_grant().units_size(), 1);
        const wire::WorkUnit unit = grant.lease_grant().units(0);
        QByteArray frames;
        const auto add = [&](wire::Envelope e, std::uint64_t id) {
            e.set_request_id(id);
            const QByteArray bytes = protocol::encodeFrame(e);
            const quint32 n = qToBigEndian(static_cast<quint32>(bytes.size()));
            frames.append(reinterpret_cast<const char*>(&n), 4).append(bytes);
        };
        wire::Envelope hello;
        *hello.mutable_hello() = protocol::makeHello(protocol::PeerInfo{wire::ROLE_CONTRIBUTOR, {}, {}, "slow"});
        add(hello, 1);
        add(authenticateWithToken(token), 2);
        wire::Envelope fetch;
        fetch.mutable_fetch_weights()->set_job_id(unit.job_id());
        fetch.mutable_fetch_weights()->set_model_version(unit.model_version());
        for (std::uint64_t i = 0; i < 20000; ++i) add(fetch, 3 + i);
        QTemporaryFile framesFile;
        QVERIFY(framesFile.open());
        framesFile.write(frames);
        framesFile.flush();
        QProcess peer;
        peer.start(qEnvironmentVariable("RAVEN_PYTHON", "python3"),
                   {QFINDTESTDATA("non_reading_peer.py"), "127.0.0.1", QString::number(d_->coordinator->url().port()),
                    framesFile.fileName(), "3", "6"});
        QVERIFY(peer.waitForStarted());
        // The honest job goes on while the peer sits on its answers.
        QTRY_VERIFY_WITH_TIMEOUT(peer.state() == QProcess::NotRunning, 30000);
        const QString verdict = QString::fromUtf8(peer.readAllStandardOutput()).trimmed();
        QVERIFY2(verdict.startsWith(QStringLiteral("closed")), qPrintable(verdict + " " + peer.readAllStandardError()));
        checkHonestProgress(before, "a peer that does not read");
    }

    void enrollmentIsRateLimitedPerAddress() {
        d_->options.openEnrollment = true;
        d_->options.peers.enrollmentsPerAddressPerHour = 3;
        d_->start();
        startHonestTraffic();
        const qint64 before = steps();
        for (int i = 0; i < 3; ++i) {
            SyncClient newcomer(d_->coordinator->url(), wire::ROLE_CONTRIBUTOR, d_->knownHosts());
            QVERIFY(newcomer.call(registerContributor()).has_register_reply());
        }
        SyncClient fourth(d_->coordinator->url(), wire::ROLE_CONTRIBUTOR, d_->knownHosts());
        const wire::Envelope refused = fourth.call(registerContributor());
        QCOMPARE(codeOf(refused), wire::ERROR_CODE_UNAVAILABLE);
        QVERIFY2(refused.error().hint().find("try again after") != std::string::npos, text(refused).c_str());
        checkHonestProgress(before, "enrollment flood");
    }

    void aWorkerCannotHoardUnitsByDeclaringSpeed() {
        d_->options.shardsPerUnit = 1;
        d_->start();
        requester_ = d_->requester();
        job_ = d_->submitJob(*requester_, adamHyperparameters(3));
        auto hoarder = d_->contributor();
        QVERIFY(hoarder->call(registerContributor(1e12, 0)).has_register_reply());  // "infinitely fast, no limit"
        const wire::Envelope grant = hoarder->call(leaseRequest(256));
        QVERIFY2(grant.lease_grant().units_size() >= 1 && grant.lease_grant().units_size() <= 2, text(grant).c_str());
        QCOMPARE(hoarder->call(leaseRequest(256)).lease_grant().units_size(), 0);  // until it delivers
        // The rest of the step goes to an honest worker meanwhile.
        honest_ = std::make_unique<TestWorker>(d_->coordinator->url(),
                                               d_->coordinator->addContributor(QStringLiteral("honest")).toStdString(),
                                               d_->workerDir(QStringLiteral("honest")), TestWorker::Behaviour{});
        QTRY_VERIFY_WITH_TIMEOUT(honest_->accepted >= 1, 20000);
    }

    void readsBeyondOnesRoleAreRefused() {
        d_->start();
        startHonestTraffic();
        const qint64 before = steps();
        auto snoop = d_->contributor();
        wire::Envelope weights;
        weights.mutable_fetch_weights()->set_job_id(job_);
        weights.mutable_fetch_weights()->set_model_version(static_cast<std::uint64_t>(steps()));
        QCOMPARE(codeOf(snoop->call(weights)), wire::ERROR_CODE_NOT_FOUND);
        wire::Envelope manifest;
        manifest.mutable_fetch_manifest()->set_dataset_id(d_->manifest.id.toStdString());
        QCOMPARE(codeOf(snoop->call(manifest)), wire::ERROR_CODE_NOT_FOUND);
        wire::Envelope shard;
        shard.mutable_fetch_shard()->set_shard_sha256(d_->manifest.train.shards[0].hash.toStdString());
        QCOMPARE(codeOf(snoop->call(shard)), wire::ERROR_CODE_NOT_FOUND);
        // Another requester knows the ids but is not a worker with a lease.
        QCOMPARE(codeOf(requester_->call(shard)), wire::ERROR_CODE_PERMISSION_DENIED);
        QCOMPARE(codeOf(requester_->call(manifest)), wire::ERROR_CODE_PERMISSION_DENIED);
        wire::Envelope stats;
        stats.mutable_contributor_stats_query()->set_contributor_id("1");
        QCOMPARE(codeOf(requester_->call(stats)), wire::ERROR_CODE_PERMISSION_DENIED);
        checkHonestProgress(before, "reads beyond role");
    }
};

QTEST_GUILESS_MAIN(HostilePeersTest)
#include "tst_HostilePeers.moc"
