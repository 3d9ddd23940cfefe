// Robust aggregation for fast-mode jobs (issue 18 item 5): centred clipping around the
// coordinate-wise median, checked against a plain double-precision reference written here, and on
// the cheats the hostile-worker bed makes (scaled, sign-flipped, random, zero), with the job option
// that turns it on.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include "base/Error.h"
#include "coordinator/JobConfig.h"
#include "coordinator/OutlierStrikes.h"
#include "coordinator/RobustAggregation.h"

using namespace raven;
using namespace raven::coordinator;

namespace {

// More than one block of coordinates (RobustAggregation works in blocks of 8 Ki).
constexpr std::size_t kParameters = 20'011;
constexpr std::int64_t kSamples = 64;

// An honest unit: the true mean gradient plus the noise of its own samples, summed over them.
StoredResult honestUnit(int unit, const std::vector<float>& trueMean, float noise = 0.3f) {
    std::mt19937 random(static_cast<unsigned>(7000 + unit));
    std::normal_distribution<float> jitter(0.0f, noise);
    StoredResult r;
    r.samples = kSamples;
    r.contributor = 1 + unit;
    r.gradient.resize(trueMean.size());
    for (std::size_t j = 0; j < trueMean.size(); ++j)
        r.gradient[j] = static_cast<float>(kSamples) * (trueMean[j] + jitter(random));
    return r;
}

std::vector<float> trueMeanGradient() {
    std::mt19937 random(42);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    std::vector<float> g(kParameters);
    for (float& v : g) v = value(random);
    return g;
}

using Inputs = std::vector<std::pair<ledger::WorkUnitId, const StoredResult*>>;

Inputs inputsOf(const std::vector<StoredResult>& results) {
    Inputs in;
    for (std::size_t i = 0; i < results.size(); ++i)
        in.emplace_back(static_cast<ledger::WorkUnitId>(100 + i), &results[i]);
    return in;
}

double samplesOf(const std::vector<StoredResult>& results) {
    double n = 0;
    for (const StoredResult& r : results) n += static_cast<double>(r.samples);
    return n;
}

// The robust mean (gradientSum / N) as a vector of doubles.
std::vector<double> meanOf(const RobustStep& step, double samples) {
    std::vector<double> m(step.gradientSum.size());
    for (std::size_t j = 0; j < m.size(); ++j) m[j] = static_cast<double>(step.gradientSum[j]) / samples;
    return m;
}

double norm(const std::vector<float>& a) {
    double s = 0;
    for (float v : a) s += static_cast<double>(v) * v;
    return std::sqrt(s);
}

// Centred clipping written out directly in double precision: the definition the class implements.
std::vector<double> referenceMean(const std::vector<StoredResult>& results, double clipMultiplier) {
    const std::size_t n = results.size();
    std::vector<double> centre(kParameters);
    std::vector<double> column(n);
    for (std::size_t j = 0; j < kParameters; ++j) {
        for (std::size_t i = 0; i < n; ++i)
            column[i] = results[i].gradient[j] / static_cast<double>(results[i].samples);
        std::sort(column.begin(), column.end());
        centre[j] = n % 2 ? column[n / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
    }
    std::vector<double> d(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < kParameters; ++j) {
            const double x = results[i].gradient[j] / static_cast<double>(results[i].samples) - centre[j];
            d[i] += x * x;
        }
        d[i] = std::sqrt(d[i]);
    }
    std::vector<double> sorted = d;
    std::sort(sorted.begin(), sorted.end());
    const double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    const double tau = clipMultiplier * median;
    std::vector<double> spread(n);
    for (std::size_t i = 0; i < n; ++i) spread[i] = d[i] * std::sqrt(static_cast<double>(results[i].samples));
    std::vector<double> sortedSpread = spread;
    std::sort(sortedSpread.begin(), sortedSpread.end());
    const double medianSpread = n % 2 ? sortedSpread[n / 2] : (sortedSpread[n / 2 - 1] + sortedSpread[n / 2]) / 2;
    const double total = samplesOf(results);
    std::vector<double> mean(centre);
    for (std::size_t i = 0; i < n; ++i) {
        const bool outlier = medianSpread > 0 && spread[i] > 5.0 * medianSpread;
        const double s = outlier ? 0.0 : d[i] > tau ? tau / d[i] : 1.0;
        const double w = static_cast<double>(results[i].samples) / total;
        for (std::size_t j = 0; j < kParameters; ++j)
            mean[j] += w * s * (results[i].gradient[j] / static_cast<double>(results[i].samples) - centre[j]);
    }
    return mean;
}

double maxDifference(const std::vector<double>& a, const std::vector<double>& b) {
    double m = 0;
    for (std::size_t j = 0; j < a.size(); ++j) m = std::max(m, std::abs(a[j] - b[j]));
    return m;
}

}  // namespace

class RobustAggregationTest : public QObject {
    Q_OBJECT

private:
    std::vector<float> trueMean_ = trueMeanGradient();

    std::vector<StoredResult> honestStep(int units) const {
        std::vector<StoredResult> results;
        for (int i = 0; i < units; ++i) results.push_back(honestUnit(i, trueMean_));
        return results;
    }

private slots:
    void matchesTheDefinitionWrittenOutInDoublePrecision() {
        std::vector<StoredResult> results = honestStep(9);
        for (float& v : results[3].gradient) v *= -20.0f;  // an outlier: its pull is dropped
        for (float& v : results[6].gradient) v *= 2.0f;    // off, not an outlier: clipped
        results[5].samples = 32;                           // an uneven unit: weights by samples
        const RobustStep step = centredClip(inputsOf(results), RobustOptions{});
        QCOMPARE(step.outlierUnits(), 1);
        QVERIFY(step.units[3].outlier && step.units[6].clipped && !step.units[6].outlier);
        QVERIFY(maxDifference(meanOf(step, samplesOf(results)), referenceMean(results, 2.0)) < 1e-4);
    }

    void anEvenCountTakesTheMeanOfTheTwoMiddleValues() {
        std::vector<StoredResult> results = honestStep(4);
        const RobustStep step = centredClip(inputsOf(results), RobustOptions{});
        QVERIFY(maxDifference(meanOf(step, samplesOf(results)), referenceMean(results, 2.0)) < 1e-4);
    }

    void honestUnitsAreNeitherClippedNorOutliersAndTheMeanBarelyMoves() {
        const std::vector<StoredResult> results = honestStep(16);
        const RobustStep step = centredClip(inputsOf(results), RobustOptions{});
        QCOMPARE(step.clippedUnits(), 0);
        QCOMPARE(step.outlierUnits(), 0);
        // Nothing clipped: the mean is the plain mean (up to float rounding).
        std::vector<double> plain(kParameters, 0.0);
        for (const StoredResult& r : results)
            for (std::size_t j = 0; j < kParameters; ++j) plain[j] += r.gradient[j];
        for (double& v : plain) v /= samplesOf(results);
        QVERIFY(maxDifference(meanOf(step, samplesOf(results)), plain) < 1e-5);
    }

    void identicalUnitsGiveExactlyTheirSum() {
        std::vector<StoredResult> results(5, honestUnit(0, trueMean_));
        const RobustStep step = centredClip(inputsOf(results), RobustOptions{});
        QCOMPARE(step.medianDistance, 0.0);
        QCOMPARE(step.outlierUnits(), 0);
        for (std::size_t j = 0; j < kParameters; ++j) QCOMPARE(step.gradientSum[j], 5.0f * results[0].gradient[j]);
    }

    void eachCheatIsAnOutlierAndMovesTheMeanOnlyABoundedDistance() {
        struct Cheat {
            const char* name;
            std::function<void(StoredResult&)> apply;
            double atMostOfPlain;  // the robust mean's error as a share of the plain mean's, at most
        };
        const std::vector<Cheat> cheats{
            {"scaled x100",
             [](StoredResult& r) {
                 for (float& v : r.gradient) v *= 100.0f;
             },
             0.05},
            // Negated and scaled: still plausible (ResultPlausibility allows 50x the usual norm).
            {"negated x10",
             [](StoredResult& r) {
                 for (float& v : r.gradient) v *= -10.0f;
             },
             0.25},
            {"random",
             [](StoredResult& r) {
                 std::mt19937 random(5);
                 std::normal_distribution<float> value(0.0f, 50.0f * kSamples);  // a mean of noise 50
                 for (float& v : r.gradient) v = value(random);
             },
             0.05},
        };
        for (const Cheat& cheat : cheats) {
            // 10 units, 3 of them cheating (the hostile-worker bed's proportion).
            std::vector<StoredResult> results = honestStep(10);
            for (int i : {1, 4, 8}) cheat.apply(results[static_cast<std::size_t>(i)]);
            const RobustStep step = centredClip(inputsOf(results), RobustOptions{});
            for (int i = 0; i < 10; ++i) {
                const bool cheater = i == 1 || i == 4 || i == 8;
                QVERIFY2(step.units[static_cast<std::size_t>(i)].outlier == cheater,
                         qPrintable(QStringLiteral("%1: unit %2 judged wrongly").arg(cheat.name).arg(i)));
            }
            // Each cheating unit adds at most (its share of the samples) x tau beyond the centre,
            // a median that three of ten cannot drag far: the robust mean stays near the honest
            // units' own mean, while the plain mean is pulled as far as the cheaters like.
            std::vector<double> honest(kParameters, 0.0), plain(kParameters, 0.0);
            for (int i = 0; i < 10; ++i)
                for (std::size_t j = 0; j < kParameters; ++j) {
                    const double v = results[static_cast<std::size_t>(i)].gradient[j] / double(kSamples);
                    plain[j] += v / 10.0;
                    if (!(i == 1 || i == 4 || i == 8)) honest[j] += v / 7.0;
                }
            const std::vector<double> robust = meanOf(step, samplesOf(results));
            double robustOff = 0, plainOff = 0;
            for (std::size_t j = 0; j < kParameters; ++j) {
                robustOff += (robust[j] - honest[j]) * (robust[j] - honest[j]);
                plainOff += (plain[j] - honest[j]) * (plain[j] - honest[j]);
            }
            robustOff = std::sqrt(robustOff);
            plainOff = std::sqrt(plainOff);
            QVERIFY2(robustOff < 0.3 * (norm(trueMean_) + step.radius),
                     qPrintable(QStringLiteral("%1: robust mean %2 off").arg(cheat.name).arg(robustOff)));
            QVERIFY2(
                robustOff < cheat.atMostOfPlain * plainOff,
                qPrintable(QStringLiteral("%1: robust %2, plain %3").arg(cheat.name).arg(robustOff).arg(plainOff)));
        }
    }

    void aHonestUnitOfFewerSamplesIsNoOutlier() {
        // The last unit of an epoch may hold fewer samples: its mean is noisier, not wrong.
        std::vector<StoredResult> results = honestStep(9);
        std::mt19937 random(99);
        std::normal_distribution<float> jitter(0.0f, 0.3f * 4.0f);  // 1/16 of the samples: 4x the noise
        StoredResult& small = results.back();
        small.samples = kSamples / 16;
        for (std::size_t j = 0; j < kParameters; ++j)
            small.gradient[j] = static_cast<float>(small.samples) * (trueMean_[j] + jitter(random));
        const RobustStep step = centredClip(inputsOf(results), RobustOptions{});
        QCOMPARE(step.outlierUnits(), 0);
    }

    void aMildCheatIsNoOutlierButItsPullIsStillBounded() {
        // Negated at the honest size: only ~2x the honest distance off, inside honest units' own
        // spread (heavy-tailed, up to ~3x), so not named; clipping still bounds what it adds.
        std::vector<StoredResult> results = honestStep(10);
        for (int i : {1, 4, 8})
            for (float& v : results[static_cast<std::size_t>(i)].gradient) v = -v;
        const RobustStep step = centredClip(inputsOf(results), RobustOptions{});
        QCOMPARE(step.outlierUnits(), 0);
        QVERIFY(maxDifference(meanOf(step, samplesOf(results)), referenceMean(results, 2.0)) < 1e-4);
    }

    void theSameResultsGiveTheSameBits() {
        std::vector<StoredResult> results = honestStep(7);
        for (float& v : results[2].gradient) v *= 30.0f;
        const RobustStep a = centredClip(inputsOf(results), RobustOptions{});
        const RobustStep b = centredClip(inputsOf(results), RobustOptions{});
        QCOMPARE(std::memcmp(a.gradientSum.data(), b.gradientSum.data(), kParameters * sizeof(float)), 0);
        QCOMPARE(a.radius, b.radius);
    }

    void aSmallerClipMultiplierClipsMore() {
        const std::vector<StoredResult> results = honestStep(11);
        RobustOptions tight;
        tight.clipMultiplier = 0.5;
        QVERIFY(centredClip(inputsOf(results), tight).clippedUnits() > 0);
        QCOMPARE(centredClip(inputsOf(results), RobustOptions{}).clippedUnits(), 0);
    }

    void refusesMismatchedOrEmptyResults() {
        std::vector<StoredResult> results = honestStep(3);
        results[1].gradient.pop_back();
        QVERIFY_THROWS_EXCEPTION(raven::Error, centredClip(inputsOf(results), RobustOptions{}));
        results = honestStep(3);
        results[2].samples = 0;
        QVERIFY_THROWS_EXCEPTION(raven::Error, centredClip(inputsOf(results), RobustOptions{}));
        QVERIFY_THROWS_EXCEPTION(raven::Error, centredClip({}, RobustOptions{}));
    }

    void theJobOptionIsReadCheckedAndKept() {
        wire::Hyperparameters h;
        h.set_global_batch(128);
        h.set_aggregation(wire::AGGREGATION_CENTRED_CLIP);
        h.set_clip_multiplier(1.5);
        const JobConfig config = JobConfig::fromWire(h, 0, QStringLiteral("spec"));
        QVERIFY(config.aggregation == Aggregation::CentredClip);
        QCOMPARE(config.robust.clipMultiplier, 1.5);
        QCOMPARE(config.robust.outlierMultiplier, 5.0);
        const JobConfig again = JobConfig::fromJson(config.toJson());
        QVERIFY(again.aggregation == Aggregation::CentredClip);
        QCOMPARE(again.robust.clipMultiplier, 1.5);

        wire::Hyperparameters plain;
        plain.set_global_batch(128);
        QVERIFY(JobConfig::fromWire(plain, 0, QStringLiteral("spec")).aggregation == Aggregation::Mean);

        h.set_clip_multiplier(-1.0);
        QVERIFY_THROWS_EXCEPTION(raven::Error, JobConfig::fromWire(h, 0, QStringLiteral("spec")));
        h.set_clip_multiplier(0.0);
        h.set_aggregation(static_cast<wire::Aggregation>(7));
        QVERIFY_THROWS_EXCEPTION(raven::Error, JobConfig::fromWire(h, 0, QStringLiteral("spec")));
    }

    // OutlierStrikes: 3 outliers among a contributor's last 10 judged units end its trust, once; the
    // count is per contributor and forgets units older than the window.
    void threeOutliersAmongTheLastTenStrikeOut() {
        OutlierStrikes strikes;
        QVERIFY(!strikes.judged(1, true));
        QVERIFY(!strikes.judged(2, true));  // another contributor's count is its own
        QVERIFY(!strikes.judged(1, false));
        QVERIFY(!strikes.judged(1, true));
        QCOMPARE(strikes.strikes(1), 2);
        QVERIFY(strikes.judged(1, true));   // the third
        QVERIFY(!strikes.judged(1, true));  // told once
        QCOMPARE(strikes.strikes(2), 1);
    }

    void outliersOlderThanTheWindowAreForgotten() {
        OutlierStrikes strikes;
        QVERIFY(!strikes.judged(7, true));
        QVERIFY(!strikes.judged(7, true));
        for (int i = 0; i < 8; ++i) QVERIFY(!strikes.judged(7, false));
        QCOMPARE(strikes.strikes(7), 2);
        QVERIFY(!strikes.judged(7, false));  // the first outlier leaves the window of 10
        QCOMPARE(strikes.strikes(7), 1);
        QVERIFY(!strikes.judged(7, true));  // and this one pushes out the second
        QCOMPARE(strikes.strikes(7), 1);
        QVERIFY(!strikes.judged(7, true));
        QCOMPARE(strikes.strikes(7), 2);
        QVERIFY(strikes.judged(7, true));
    }

    void anHonestRecordNeverStrikesOut() {
        OutlierStrikes strikes;
        for (int i = 0; i < 1000; ++i) QVERIFY(!strikes.judged(3, i % 10 == 0));  // one in ten: bad luck
        QVERIFY_THROWS_EXCEPTION(raven::Error, OutlierStrikes(OutlierStrikes::Settings{0, 10}));
        QVERIFY_THROWS_EXCEPTION(raven::Error, OutlierStrikes(OutlierStrikes::Settings{4, 3}));
    }
};

QTEST_GUILESS_MAIN(RobustAggregationTest)
#include "tst_RobustAggregation.moc"
