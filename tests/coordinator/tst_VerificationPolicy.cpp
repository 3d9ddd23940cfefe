// Adaptive replication and the digest that two computations of a unit are compared by: a new
// contributor is replayed on every unit, a trusted one at a rate halving every few verified units to a floor,
// a caught one never again (quarantined); which units are replayed is a keyed hash, stable and
// spread evenly; the digest ignores a NaN's payload and nothing else.
#include <QtTest>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "base/Error.h"
#include "coordinator/GradientDigest.h"
#include "coordinator/VerificationPolicy.h"

using namespace raven;
using namespace raven::coordinator;

namespace {

double sampledShare(const VerificationPolicy& policy, ledger::ContributorId who, int units) {
    int sampled = 0;
    for (int unit = 1; unit <= units; ++unit) sampled += policy.shouldVerify(who, unit) ? 1 : 0;
    return static_cast<double>(sampled) / units;
}

}  // namespace

class VerificationPolicyTest : public QObject {
    Q_OBJECT
private slots:
    void aNewContributorIsReplayedOnEveryUnit() {
        VerificationPolicy policy({10, 0.05, 5}, 7);
        for (int v = 0; v <= 10; ++v) {
            QCOMPARE(policy.rateFor(3), 1.0);
            QCOMPARE(sampledShare(policy, 3, 500), 1.0);
            policy.verified(3);
        }
        QCOMPARE(policy.trust(3).verified, 11);
        QVERIFY(policy.rateFor(3) < 1.0);
        QCOMPARE(policy.rateFor(4), 1.0);  // another contributor is still new
    }

    void trustLowersTheRateToTheFloorAndNoFurther() {
        VerificationPolicy policy({10, 0.05, 5}, 7);
        double last = 1.0;
        for (int v = 0; v < 1000; ++v) {
            const double rate = policy.rateFor(1);
            QVERIFY(rate <= last);
            QVERIFY(rate >= 0.05);
            last = rate;
            policy.verified(1);
        }
        QCOMPARE(policy.rateFor(1), 0.05);
        // The sampled share follows the rate (the draw is spread evenly over [0, 1)).
        const double share = sampledShare(policy, 1, 20000);
        QVERIFY2(share > 0.04 && share < 0.06, qPrintable(QString::number(share)));
        VerificationPolicy halfway({10, 0.05, 5}, 7);
        for (int v = 0; v < 15; ++v) halfway.verified(2);
        QCOMPARE(halfway.rateFor(2), 0.5);  // one halving after probation
        const double half = sampledShare(halfway, 2, 20000);
        QVERIFY2(half > 0.48 && half < 0.52, qPrintable(QString::number(half)));
        for (int v = 0; v < 5; ++v) halfway.verified(2);
        QCOMPARE(halfway.rateFor(2), 0.25);
        for (int v = 0; v < 11; ++v) halfway.verified(2);
        QVERIFY(halfway.rateFor(2) > 0.05);  // 31 verified: 0.5^4.2
        halfway.verified(2);
        QCOMPARE(halfway.rateFor(2), 0.05);  // 32: the floor
    }

    void theDrawIsStableAndKeyed() {
        VerificationPolicy a({0, 0.3, 1}, 11), b({0, 0.3, 1}, 11), other({0, 0.3, 1}, 12);
        for (VerificationPolicy* p : {&a, &b, &other})
            for (int v = 0; v < 10; ++v) p->verified(5);  // at the floor, 0.3
        int same = 0, differs = 0;
        for (int unit = 1; unit <= 2000; ++unit) {
            QCOMPARE(a.shouldVerify(5, unit), b.shouldVerify(5, unit));
            QCOMPARE(a.shouldVerify(5, unit), a.shouldVerify(5, unit));
            (a.shouldVerify(5, unit) == other.shouldVerify(5, unit) ? same : differs) += 1;
            QVERIFY(a.drawFor(unit) >= 0.0 && a.drawFor(unit) < 1.0);
        }
        QVERIFY2(differs > 400, qPrintable(QString::number(differs)));  // about 2 * 0.3 * 0.7 of them
    }

    void aCaughtContributorIsQuarantinedForGood() {
        VerificationPolicy policy({2, 0.1, 5}, 1);
        for (int v = 0; v < 50; ++v) policy.verified(9);
        QVERIFY(!policy.quarantined(9));
        policy.caught(9);
        QVERIFY(policy.quarantined(9));
        QCOMPARE(policy.trust(9).verified, 0);
        QCOMPARE(policy.rateFor(9), 0.0);
        policy.verified(9);  // a late match does not buy trust back
        QCOMPARE(policy.trust(9).verified, 0);
        QVERIFY(policy.quarantined(9));
        QVERIFY(!policy.quarantined(8));
    }

    void badSettingsSayWhatToGive() {
        QVERIFY_THROWS_EXCEPTION(raven::Error, VerificationPolicy({-1, 0.05}, 1));
        QVERIFY_THROWS_EXCEPTION(raven::Error, VerificationPolicy({10, 0.0}, 1));
        QVERIFY_THROWS_EXCEPTION(raven::Error, VerificationPolicy({10, 1.5}, 1));
        QVERIFY_THROWS_EXCEPTION(raven::Error, VerificationPolicy({10, 0.05, 0}, 1));
        try {
            VerificationPolicy({10, 0.0}, 1);
        } catch (const raven::Error& e) {
            QVERIFY2(QString::fromStdString(e.what()).contains("(0, 1]"), e.what());
        }
    }

    void theDigestIsTheSha256OfTheLittleEndianValues() {
        const float one[] = {1.0f};
        QCOMPARE(gradientDigest(one), QStringLiteral("e00e5eb9444182f352323374ef4e08ebcb784725fdd4fd612d7730540b3e0c8c"));
        QCOMPARE(gradientDigest({}), QStringLiteral("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        // Across a block boundary of the hashing loop, the digest is still of the whole.
        std::vector<float> big(10000);
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i) * 0.5f;
        std::vector<float> changed = big;
        changed[9999] = std::nextafter(changed[9999], 1e9f);
        QVERIFY(gradientDigest(big) != gradientDigest(changed));
    }

    void nansAreCanonicalAndNothingElseIs() {
        const float quiet = std::numeric_limits<float>::quiet_NaN();
        const float payload = std::bit_cast<float>(std::uint32_t{0xffc01234u});  // negative, with a payload
        const float a[] = {quiet, -2.5f}, b[] = {payload, -2.5f};
        QCOMPARE(gradientDigest(a), gradientDigest(b));
        QCOMPARE(gradientDigest(a), QStringLiteral("a37f0378b9f7dbc1e6f4e55ee6156203f5601f9ca660d25205d1967ff11d3015"));
        const float plusZero[] = {0.0f}, minusZero[] = {-0.0f};
        QVERIFY(gradientDigest(plusZero) != gradientDigest(minusZero));
        const float x[] = {0.1f}, nextX[] = {std::nextafter(0.1f, 1.0f)};
        QVERIFY(gradientDigest(x) != gradientDigest(nextX));
    }
};

QTEST_GUILESS_MAIN(VerificationPolicyTest)
#include "tst_VerificationPolicy.moc"
