// A flood of made-up results from a fresh identity against a verifiable job whose replays are slow
// (issue 18 item 4): the coordinator replays on its pool, never on the event loop, so another
// contributor's lease is answered while a replay runs; the identity gets one replay in flight and
// one waiting, its further results are refused without a replay, and once it is caught the
// waiting one is discarded without one. Real TLS on loopback, the coordinator's SQLite store on disk.
#include <QElapsedTimer>
#include <QtTest>

#include <random>

#include "CoordinatorTestKit.h"
#include "coordinator/ReplayQueue.h"
#include "coordinator/ResultVerifier.h"

using namespace raven;
using namespace raven::test;

namespace {

// Wide enough that one replay of a 32-sample unit takes a good fraction of a second.
constexpr int kHidden = 1536;
const std::string kWideSpec = R"({
  "name": "wide-mlp",
  "input": {"shape": [6]},
  "layers": [
    {"name": "fc1", "kind": "linear", "out": 1536},
    {"name": "relu1", "kind": "relu"},
    {"name": "fc2", "kind": "linear", "out": 1536},
    {"name": "relu2", "kind": "relu"},
    {"name": "fc3", "kind": "linear", "out": 3}
  ],
  "loss": {"kind": "cross_entropy"},
  "init": {"scheme": "kaiming_uniform", "seed": 3}
})";
constexpr std::size_t kParameters = 6 * kHidden + kHidden + kHidden * kHidden + kHidden + kHidden * 3 + 3;

protocol::WorkResult madeUp(const wire::WorkUnit& unit, unsigned seed) {
    protocol::WorkResult r;
    r.workUnitId = unit.id();
    r.gradient.resize(kParameters);
    std::mt19937 random(seed);
    std::normal_distribution<float> noise(0.0f, 0.01f);
    for (float& g : r.gradient) g = noise(random);
    r.sampleCount = 32;
    r.loss = 35.0;
    r.correct = 11;
    r.computeMs = 1;
    r.kernelMode = wire::KERNEL_MODE_VERIFIABLE;
    return r;
}

// Sends every part of the result now; the ResultAck (or Error) lands in `answers` when it comes.
void sendWithoutWaiting(SyncClient& client, const protocol::WorkResult& result,
                        std::shared_ptr<std::vector<wire::Envelope>> answers) {
    std::vector<wire::SubmitResult> parts = protocol::makeSubmitResults(result, wire::GRADIENT_ENCODING_FP32, false);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        wire::Envelope e;
        *e.mutable_submit_result() = parts[i];
        client.client->send(e);
    }
    wire::Envelope last;
    *last.mutable_submit_result() = parts.back();
    client.client->request(std::move(last), [answers](const wire::Envelope& e) {
        answers->push_back(e);
        return ProtocolClient::ReplyFlow::Done;
    });
}

}  // namespace

class ReplayFloodTest : public QObject {
    Q_OBJECT
private slots:
    void aFloodFromAFreshIdentityDoesNotDelayAnotherLease() {
        Deployment d;
        d.options.verificationSeed = 42;
        d.options.verification.replaysWaitingPerContributor = 1;
        d.options.unitDeadlineMs = 60000;  // nothing expires while the test looks
        d.options.leaseTimeoutMs = 60000;
        d.options.rate = ledger::CreditRate{1'000'000'000};  // the wide model's units within the budget
        d.start();
        auto requester = d.requester();
        uploadDataset(*requester, d.manifest, *d.published);
        const wire::Envelope spec = requester->call(uploadSpecRequest(kWideSpec, "wide"));
        QVERIFY2(spec.has_upload_model_spec_reply(), text(spec).c_str());
        wire::Hyperparameters h = adamHyperparameters(1);
        h.set_global_batch(192);  // 6 units of one 32-sample shard each
        h.set_kernel_mode(wire::KERNEL_MODE_VERIFIABLE);
        const wire::Envelope job = requester->call(createJobRequest(
            d.manifest.id.toStdString(), spec.upload_model_spec_reply().model_spec_sha256(), h,
            10 * ledger::kMicroCreditsPerCredit));
        QVERIFY2(job.has_job_info(), text(job).c_str());

        auto lease = [](SyncClient& c, unsigned n) {
            wire::Envelope grant;
            for (int i = 0; i < 100; ++i) {
                grant = c.call(leaseRequest(n));
                if (grant.has_lease_grant() && grant.lease_grant().units_size() > 0) break;
                QTest::qWait(50);
            }
            return grant;
        };
        auto other = d.contributor();
        QVERIFY(other->call(registerContributor()).has_register_reply());
        const wire::Envelope otherGrant = lease(*other, 1);
        QVERIFY2(otherGrant.has_lease_grant() && otherGrant.lease_grant().units_size() == 1, text(otherGrant).c_str());
        auto flooder = d.contributor();
        QVERIFY(flooder->call(registerContributor()).has_register_reply());
        const wire::Envelope flooderGrant = lease(*flooder, 2);
        QVERIFY2(flooderGrant.has_lease_grant() && flooderGrant.lease_grant().units_size() == 2,
                 text(flooderGrant).c_str());

        // Three made-up results at once: its two units and the other's.
        auto answers = std::make_shared<std::vector<wire::Envelope>>();
        sendWithoutWaiting(*flooder, madeUp(flooderGrant.lease_grant().units(0), 1), answers);
        sendWithoutWaiting(*flooder, madeUp(flooderGrant.lease_grant().units(1), 2), answers);
        sendWithoutWaiting(*flooder, madeUp(otherGrant.lease_grant().units(0), 3), answers);
        // A replay runs on the pool; the event loop (this test's own) goes on meanwhile.
        const coordinator::ReplayQueue& replays = d.coordinator->replays();
        QTRY_VERIFY_WITH_TIMEOUT(replays.running() == 1, 30000);
        const std::size_t answeredBefore = answers->size();
        QElapsedTimer clock;
        clock.start();
        const wire::Envelope probe = other->call(leaseRequest(1));
        const qint64 leaseMs = clock.elapsed();
        QVERIFY2(probe.has_lease_grant() && probe.lease_grant().units_size() == 1, text(probe).c_str());
        // The lease was answered while the replay still ran: it did not wait for it.
        QCOMPARE(replays.running(), 1);
        QVERIFY(answers->size() <= answeredBefore + 1);  // at most the refusal came meanwhile

        QTRY_COMPARE_WITH_TIMEOUT(answers->size(), std::size_t{3}, 60000);
        int caught = 0, refused = 0, discarded = 0;
        for (const wire::Envelope& a : *answers) {
            QVERIFY2(a.has_result_ack(), text(a).c_str());
            QCOMPARE(a.result_ack().status(), wire::RESULT_STATUS_REJECTED);
            const std::string why = a.result_ack().reason();
            if (why.find("replayed") != std::string::npos) ++caught;
            else if (why.find("already wait") != std::string::npos) ++refused;
            else if (why.find("quarantined") != std::string::npos) ++discarded;
            else QFAIL(why.c_str());
        }
        QCOMPARE(caught, 1);
        QCOMPARE(refused, 1);
        QCOMPARE(discarded, 1);
        const coordinator::ResultVerifier& verifier = d.coordinator->verifier();
        const coordinator::VerificationStats stats = verifier.stats(std::stoll(job.job_info().job_id()));
        // Three results cost the coordinator one replay and its third computation, no more.
        QCOMPARE(stats.replayed, 1);
        QCOMPARE(stats.caught, 1);
        QCOMPARE(replays.running(), 0);
        QCOMPARE(replays.waiting(), 0u);
        qInfo("flood: the other contributor's lease took %lld ms while a replay ran; one replay (%.3f s, with the "
              "third computation) for three made-up results; shard cache %lld hits, %lld misses",
              static_cast<long long>(leaseMs), stats.replaySeconds,
              static_cast<long long>(verifier.unitReplay().shardCache().hits()),
              static_cast<long long>(verifier.unitReplay().shardCache().misses()));

        // Quarantined now: a further result is discarded at once, without a replay.
        auto more = std::make_shared<std::vector<wire::Envelope>>();
        sendWithoutWaiting(*flooder, madeUp(flooderGrant.lease_grant().units(0), 4), more);
        QTRY_COMPARE_WITH_TIMEOUT(more->size(), std::size_t{1}, 30000);
        QVERIFY(more->front().has_result_ack());
        QVERIFY(more->front().result_ack().reason().find("quarantined") != std::string::npos);
        QCOMPARE(verifier.stats(std::stoll(job.job_info().job_id())).replayed, 1);
        QVERIFY(d.coordinator->ledger().audit().ok());
    }
};

QTEST_GUILESS_MAIN(ReplayFloodTest)
#include "tst_ReplayFlood.moc"
