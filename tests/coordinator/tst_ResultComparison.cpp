// ResultComparison: a replayed result against the contributor's, exactly for verifiable kernels and
// within the fast kernels' rounding for fast ones (docs/verification.md). Every cheat of the
// hostile-worker bed is outside the tolerance; the rounding of honest devices and of the bf16 and
// int8 encodings is inside it.
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

#include "coordinator/ResultComparison.h"

using namespace raven;
using namespace raven::coordinator;

namespace {

// A gradient as a unit of 32 samples gives one: a mean direction under noise of about its size.
std::vector<float> unitGradient(unsigned seed, std::size_t n = 4096) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 1e-3f);
    std::vector<float> g(n);
    for (std::size_t i = 0; i < n; ++i) g[i] = 1e-3f * std::sin(0.01f * static_cast<float>(i)) + noise(rng);
    return g;
}

protocol::WorkResult resultOf(std::vector<float> gradient) {
    protocol::WorkResult r;
    r.gradient = std::move(gradient);
    r.sampleCount = 32;
    r.loss = 73.25;
    r.correct = 20;
    return r;
}

QString fastDifference(const protocol::WorkResult& theirs, const protocol::WorkResult& mine) {
    return resultDifference(KernelMode::Fast, ComparedResult::of(theirs), ComparedResult::of(mine));
}

}  // namespace

class ResultComparisonTest : public QObject {
    Q_OBJECT

private slots:
    void verifiableResultsMustBeTheSameBits() {
        const protocol::WorkResult mine = resultOf(unitGradient(1));
        protocol::WorkResult theirs = mine;
        QVERIFY(
            resultDifference(KernelMode::Verifiable, ComparedResult::of(theirs), ComparedResult::of(mine)).isEmpty());
        theirs.gradient[7] = std::nextafter(theirs.gradient[7], 1.0f);  // one last bit
        const QString why =
            resultDifference(KernelMode::Verifiable, ComparedResult::of(theirs), ComparedResult::of(mine));
        QVERIFY2(why.contains("digest"), qPrintable(why));
        // The same last bit is rounding to the fast kernels.
        QVERIFY(fastDifference(theirs, mine).isEmpty());
        theirs = mine;
        theirs.loss = std::nextafter(theirs.loss, 100.0);
        QVERIFY(resultDifference(KernelMode::Verifiable, ComparedResult::of(theirs), ComparedResult::of(mine))
                    .contains("loss sum"));
    }

    // Another device sums in another order (about 1e-6 relatively per value), and the bf16 and int8
    // encodings round the two sides of a value near a rounding edge apart: an honest result still.
    void honestRoundingIsWithinTheTolerance() {
        const std::vector<float> exact = unitGradient(2);
        std::mt19937 rng(9);
        std::uniform_real_distribution<float> jitter(-1e-6f, 1e-6f);
        std::vector<float> otherDevice = exact;
        for (float& g : otherDevice) g *= 1.0f + jitter(rng);
        const std::uint64_t key = protocol::updateRoundingKey("spec", 4, {"shard"});
        for (const wire::GradientEncoding encoding :
             {wire::GRADIENT_ENCODING_FP32, wire::GRADIENT_ENCODING_BF16, wire::GRADIENT_ENCODING_FP16,
              wire::GRADIENT_ENCODING_INT8_BLOCK}) {
            protocol::WorkResult mine = resultOf(protocol::roundTripGradient(exact, encoding, key));
            protocol::WorkResult theirs = resultOf(protocol::roundTripGradient(otherDevice, encoding, key));
            theirs.loss = mine.loss * (1.0 + 1e-6);
            theirs.correct = mine.correct + 1;  // a near tie fell the other way
            const QString why = fastDifference(theirs, mine);
            QVERIFY2(why.isEmpty(), qPrintable(QString("encoding %1: %2").arg(int(encoding)).arg(why)));
            QVERIFY(relativeGradientDifference(theirs.gradient, mine.gradient) < kFastGradientTolerance / 2);
        }
    }

    // The hostile-worker bed's cheats (core/worker/HostileCompute.h), each refused with what differs.
    void everyCheatOfTheBedIsOutsideTheTolerance() {
        const protocol::WorkResult mine = resultOf(unitGradient(3));
        const auto cheat = [&](const char* name, const std::function<void(std::vector<float>&)>& change) {
            protocol::WorkResult theirs = mine;
            change(theirs.gradient);
            const QString why = fastDifference(theirs, mine);
            QVERIFY2(!why.isEmpty(), name);
            QVERIFY2(why.contains("gradient"), qPrintable(why));
            QVERIFY2(relativeGradientDifference(theirs.gradient, mine.gradient) >= 0.5, name);
        };
        cheat("scaled x2", [](std::vector<float>& g) {
            for (float& v : g) v *= 2.0f;
        });
        cheat("sign-flipped", [](std::vector<float>& g) {
            for (float& v : g) v = -v;
        });
        cheat("zero", [](std::vector<float>& g) { std::fill(g.begin(), g.end(), 0.0f); });
        cheat("noise of the honest size", [](std::vector<float>& g) {
            std::mt19937 rng(5);
            std::normal_distribution<float> noise(0.0f, 1.4e-3f);
            for (float& v : g) v = noise(rng);
        });
        const std::vector<float> otherUnit = unitGradient(4);  // a stale or a copied gradient
        cheat("another unit's gradient", [&](std::vector<float>& g) { g = otherUnit; });
        cheat("one value made huge", [](std::vector<float>& g) { g[100] = 10.0f; });
    }

    void countsAndLossesAreCompared() {
        const protocol::WorkResult mine = resultOf(unitGradient(6));
        protocol::WorkResult theirs = mine;
        theirs.sampleCount = 64;
        QVERIFY(fastDifference(theirs, mine).contains("samples"));
        theirs = mine;
        theirs.loss = mine.loss * 1.01;
        QVERIFY(fastDifference(theirs, mine).contains("loss sum"));
        theirs = mine;
        theirs.correct = mine.correct + 3;  // 32 samples allow one near tie
        QVERIFY(fastDifference(theirs, mine).contains("correct"));
        // A character model's 32 samples hold 64 predictions each: 2,048 allow 21 near ties, not 22.
        const auto sequence = [&](std::int64_t apart) {
            theirs.correct = mine.correct + apart;
            return resultDifference(KernelMode::Fast, ComparedResult::of(theirs), ComparedResult::of(mine), 64);
        };
        QVERIFY2(sequence(21).isEmpty(), qPrintable(sequence(21)));
        QVERIFY(sequence(22).contains("correct"));
    }

    // A model that diverged gives the same non-finite values to both sides; one side alone does not.
    void nonFiniteValuesMustAgree() {
        protocol::WorkResult mine = resultOf(unitGradient(7));
        mine.gradient[3] = std::numeric_limits<float>::quiet_NaN();
        protocol::WorkResult theirs = mine;
        theirs.gradient[3] = -std::numeric_limits<float>::quiet_NaN();  // another payload, the same NaN
        QVERIFY(fastDifference(theirs, mine).isEmpty());
        theirs.gradient[3] = 0.0f;
        QVERIFY(fastDifference(theirs, mine).contains("gradient"));
        QVERIFY(std::isinf(relativeGradientDifference(theirs.gradient, mine.gradient)));
        // An all-zero replay: only an all-zero result equals it.
        const std::vector<float> zeros(16, 0.0f);
        QCOMPARE(relativeGradientDifference(zeros, zeros), 0.0);
        std::vector<float> almost = zeros;
        almost[0] = 1e-30f;
        QVERIFY(std::isinf(relativeGradientDifference(almost, zeros)));
        QVERIFY(std::isinf(relativeGradientDifference(std::vector<float>(15), zeros)));
    }
};

QTEST_GUILESS_MAIN(ResultComparisonTest)
#include "tst_ResultComparison.moc"
