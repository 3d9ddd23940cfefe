// The small policies that keep strangers in bounds, each on its own: text echoed back to a peer,
// connections per address and in all, enrollments per address per hour, whether a result is
// plausible for its job, and whether a spec fits what a volunteer's device can hold.
#include <QtTest>

#include "coordinator/JobBounds.h"
#include "coordinator/RateLimiter.h"
#include "coordinator/ResultPlausibility.h"
#include "nn/ModelSpec.h"
#include "protocol/BoundedText.h"
#include "protocol/ConnectionLimits.h"

using namespace raven;
using namespace raven::coordinator;
using namespace raven::protocol;

namespace {

// A result of `samples` samples with per-sample gradient norm `norm` and per-sample loss `loss`.
ResultFacts facts(std::uint64_t samples, double norm, double loss, std::uint64_t correct = 0) {
    const double n = static_cast<double>(samples);
    return ResultFacts::of({static_cast<float>(norm * n)}, samples, loss * n, correct);
}

std::string mlpWithHidden(long long hidden) {
    return R"({"name": "wide", "input": {"shape": [784]}, "layers": [
      {"name": "fc1", "kind": "linear", "out": )" +
           std::to_string(hidden) + R"(}, {"name": "relu1", "kind": "relu"},
      {"name": "fc2", "kind": "linear", "out": 10}], "loss": {"kind": "cross_entropy"}})";
}

}  // namespace

class PeerPoliciesTest : public QObject {
    Q_OBJECT

private slots:
    void boundedTextKeepsShortTextAndCutsLongOnCharacters() {
        QCOMPARE(boundText(QStringLiteral("short")), QStringLiteral("short"));
        const QString longText(5000, QChar(0x00E9));  // 2 bytes each in UTF-8
        const QString cut = boundText(longText, 101);
        QVERIFY(cut.startsWith(QString(50, QChar(0x00E9))));  // never half a character
        QVERIFY(cut.contains(QStringLiteral("more bytes")));
        QVERIFY(cut.toUtf8().size() < 101 + 40);
    }

    void quotedPeerStringsAreBoundedWhateverTheirSize() {
        const std::string huge(8 << 20, 'x');
        const QString quoted = quotePeer(huge);
        QVERIFY(quoted.toUtf8().size() <= kMaxQuotedPeerBytes + 40);
        QVERIFY(quoted.contains(QString::number(huge.size() - kMaxQuotedPeerBytes)));
        QCOMPARE(quotePeer(std::string("abc")), QStringLiteral("abc"));
        const std::string invalid = "\xff\xfe\xfd";
        QVERIFY(quotePeer(invalid).size() >= 1);  // replaced, not crashed
    }

    void connectionsAreCountedPerAddressAndInAll() {
        ConnectionLimits limits({/*maxConnections*/ 5, /*maxPerAddress*/ 2});
        const QHostAddress a("10.0.0.1"), b("10.0.0.2"), c("10.0.0.3");
        QVERIFY(!limits.admit(a));
        QVERIFY(!limits.admit(a));
        const auto third = limits.admit(a);
        QVERIFY(third.has_value());
        QVERIFY(third->contains(QStringLiteral("10.0.0.1")));
        QVERIFY(!limits.admit(QHostAddress("::ffff:10.0.0.2")));  // IPv4-mapped counts as its IPv4
        QCOMPARE(limits.from(b), 1);
        QVERIFY(!limits.admit(b));
        QVERIFY(!limits.admit(c));
        QVERIFY(limits.admit(c).has_value());  // 5 in all
        limits.release(a);
        QVERIFY(!limits.admit(c));
        QCOMPARE(limits.total(), 5);
        limits.release(QHostAddress("10.9.9.9"));  // never admitted: nothing changes
        QCOMPARE(limits.total(), 5);
    }

    void connectionsStayBelowTheFileDescriptorLimit() {
        QCOMPARE(ConnectionLimits::effectiveMaxConnections(4096, 1024), 1024 - 96);
        QCOMPARE(ConnectionLimits::effectiveMaxConnections(100, 65536), 100);
        QCOMPARE(ConnectionLimits::effectiveMaxConnections(100, -1), 100);
        QVERIFY(ConnectionLimits::raiseFileLimit() != 0);
    }

    void enrollmentsAreLimitedPerAddressInASlidingHour() {
        RateLimiter limiter(3, std::chrono::hours(1));
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1'800'000'000, Qt::UTC);
        for (int i = 0; i < 3; ++i) QVERIFY(limiter.tryAcquire("a", t0.addSecs(i * 60)));
        QVERIFY(!limiter.tryAcquire("a", t0.addSecs(600)));
        QVERIFY(limiter.tryAcquire("b", t0.addSecs(600)));  // others are not affected
        QCOMPARE(limiter.nextAllowed("a", t0.addSecs(600)), t0.addSecs(3600));
        QVERIFY(!limiter.tryAcquire("a", t0.addSecs(3599)));
        QVERIFY(limiter.tryAcquire("a", t0.addSecs(3601)));  // the first aged out
    }

    void rateLimiterForgetsOldKeys() {
        RateLimiter limiter(1, std::chrono::seconds(10));
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1'800'000'000, Qt::UTC);
        for (std::size_t i = 0; i < RateLimiter::kMaxKeys + 10; ++i)
            QVERIFY(limiter.tryAcquire(QString::number(i), t0.addSecs(static_cast<qint64>(i / 1000) * 20)));
        QVERIFY(limiter.keys() <= RateLimiter::kMaxKeys);
    }

    void resultPlausibility_data() {
        QTest::addColumn<std::uint64_t>("samples");
        QTest::addColumn<double>("norm");  // per sample
        QTest::addColumn<double>("loss");  // per sample
        QTest::addColumn<std::uint64_t>("correct");
        QTest::addColumn<bool>("withReference");   // 32 honest results of norm 2, loss 1.5 learned first
        QTest::addColumn<QString>("rejectedFor");  // empty: plausible

        QTest::newRow("honest, first") << std::uint64_t(32) << 2.0 << 1.5 << std::uint64_t(10) << false << "";
        QTest::newRow("honest, later") << std::uint64_t(32) << 3.0 << 1.2 << std::uint64_t(20) << true << "";
        QTest::newRow("honest, noisy") << std::uint64_t(32) << 40.0 << 8.0 << std::uint64_t(0) << true << "";
        QTest::newRow("huge but finite, first")
            << std::uint64_t(32) << 1e20 << 1.5 << std::uint64_t(0) << false << "norm";
        QTest::newRow("huge but finite, later")
            << std::uint64_t(32) << 1e4 << 1.5 << std::uint64_t(0) << true << "norm";
        QTest::newRow("overflowing float squares")
            << std::uint64_t(32) << 1e37 << 1.5 << std::uint64_t(0) << true << "norm";
        QTest::newRow("zero gradient, no work")
            << std::uint64_t(32) << 0.0 << 1.5 << std::uint64_t(0) << true << "no work";
        QTest::newRow("absurd loss, first")
            << std::uint64_t(32) << 2.0 << 1e9 << std::uint64_t(0) << false << "loss per sample";
        QTest::newRow("absurd loss, later")
            << std::uint64_t(32) << 2.0 << 500.0 << std::uint64_t(0) << true << "loss per sample";
        QTest::newRow("negative loss") << std::uint64_t(32) << 2.0 << -1.0 << std::uint64_t(0) << true << "negative";
        QTest::newRow("more correct than samples")
            << std::uint64_t(32) << 2.0 << 1.5 << std::uint64_t(33) << true << "correct";
        QTest::newRow("wrong sample count") << std::uint64_t(31) << 2.0 << 1.5 << std::uint64_t(0) << true << "samples";
    }

    void resultPlausibility() {
        QFETCH(std::uint64_t, samples);
        QFETCH(double, norm);
        QFETCH(double, loss);
        QFETCH(std::uint64_t, correct);
        QFETCH(bool, withReference);
        QFETCH(QString, rejectedFor);
        ResultPlausibility check;
        if (withReference)
            for (int i = 0; i < 32; ++i) check.learn(facts(32, 2.0, 1.5));
        const std::optional<QString> why = check.judge(facts(samples, norm, loss, correct), 32);
        if (rejectedFor.isEmpty()) {
            QVERIFY2(!why, qPrintable(why.value_or(QString())));
        } else {
            QVERIFY(why.has_value());
            QVERIFY2(why->contains(rejectedFor), qPrintable(*why));
        }
    }

    // The character model's result counts a prediction per position of each sample's label: 64
    // positions make up to 64 x samples correct, and no more.
    void aSequenceLabelCountsAPredictionPerPosition() {
        ResultPlausibility check;
        for (int i = 0; i < 32; ++i) check.learn(facts(32, 2.0, 1.5));
        QVERIFY(check.judge(facts(32, 2.0, 1.5, 40), 32).has_value());
        const std::optional<QString> accepted = check.judge(facts(32, 2.0, 1.5, 32 * 64), 32, 64);
        QVERIFY2(!accepted, qPrintable(accepted.value_or(QString())));
        const std::optional<QString> why = check.judge(facts(32, 2.0, 1.5, 32 * 64 + 1), 32, 64);
        QVERIFY(why && why->contains(QStringLiteral("64 predictions each")));
    }

    void nonFiniteGradientsAreNamedByIndex() {
        ResultPlausibility check;
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const std::optional<QString> why = check.judge(ResultFacts::of({1.0f, 2.0f, nan}, 4, 1.0, 0), 4);
        QVERIFY(why && why->contains(QStringLiteral("value 2")));
        QVERIFY(check.judge(ResultFacts::of({1.0f}, 4, std::numeric_limits<double>::infinity(), 0), 4));
    }

    void theReferenceFollowsTraining() {
        // Gradients shrink as a job trains: the window moves with them, so a late cheater is caught
        // against late figures, not the first step's.
        ResultPlausibility check;
        for (int i = 0; i < 64; ++i) check.learn(facts(32, 100.0 / (i + 1), 1.0));
        QVERIFY(check.judge(facts(32, 150.0, 1.0), 32).has_value());
        QVERIFY(!check.judge(facts(32, 2.0, 1.0), 32).has_value());
    }

    void specBoundsRefuseHugeModels() {
        CoordinatorOptions::JobLimits limits;
        JobBounds bounds(limits);
        const nn::Architecture fine(nn::ModelSpec::parse(mlpWithHidden(256)));
        QVERIFY(!bounds.checkSpec(fine));
        QVERIFY(!bounds.checkUnit(fine, 1024));
        const nn::Architecture huge(nn::ModelSpec::parse(mlpWithHidden(1'000'000)));  // 785M parameters
        const auto why = bounds.checkSpec(huge);
        QVERIFY(why && why->contains(QStringLiteral("parameters")));
        limits.maxActivationBytesPerSample = 1024;
        QVERIFY(JobBounds(limits).checkSpec(fine)->contains(QStringLiteral("activations")));
        limits = {};
        limits.maxUnitFlops = 1e6;
        QVERIFY(JobBounds(limits).checkUnit(fine, 32)->contains(QStringLiteral("FLOPs")));
    }

    void modelCostCountsParametersAndActivations() {
        const nn::Architecture arch(nn::ModelSpec::parse(mlpWithHidden(256)));
        const ModelCost cost = ModelCost::of(arch);
        QCOMPARE(cost.parameters, double(arch.parameterCount()));
        QCOMPARE(cost.activationBytesPerSample, 4.0 * (784 + 256 + 256 + 10));
    }
};

QTEST_GUILESS_MAIN(PeerPoliciesTest)
#include "tst_PeerPolicies.moc"
