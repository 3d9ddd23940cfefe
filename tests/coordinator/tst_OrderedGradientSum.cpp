// The running sum of a step's gradients (issue 17 item 3): results accepted in any order are summed
// in unit id order as soon as their predecessors are, each freed once summed, with the same bits as
// summing all of them at the step (training::averageGradients' loop), over several slices.
#include <QtTest>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>

#include "base/Error.h"
#include "coordinator/GradientBuffers.h"
#include "coordinator/OrderedGradientSum.h"

using namespace raven;
using namespace raven::coordinator;

namespace {

// Enough values for several slices (OrderedGradientSum sums slices of >= 32 Ki values in parallel).
constexpr std::size_t kParameters = 100'003;
constexpr int kUnits = 40;

// Values of very different magnitudes, so that the order of the additions changes the bits.
std::vector<float> gradientOf(int unit) {
    std::mt19937 random(static_cast<unsigned>(1000 + unit));
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    std::vector<float> g(kParameters);
    for (float& v : g) v = value(random) * std::pow(10.0f, static_cast<float>(unit % 7) - 3.0f);
    return g;
}

// What the step computed before: all results, in unit id order, added to zeros.
std::vector<float> sumInOrder(const std::vector<int>& order) {
    std::vector<float> sum(kParameters, 0.0f);
    for (int unit : order) {
        const std::vector<float> g = gradientOf(unit);
        for (std::size_t i = 0; i < kParameters; ++i) sum[i] += g[i];
    }
    return sum;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

QList<ledger::WorkUnit> stepUnits() {
    QList<ledger::WorkUnit> units;
    for (int i = 0; i < kUnits; ++i) {
        ledger::WorkUnit u;
        u.id = 100 + i;  // ids of one step, in id order
        u.state = ledger::WorkUnitState::Leased;
        units << u;
    }
    return units;
}

StoredResult resultOf(int unit) {
    StoredResult r;
    r.gradient = gradientOf(unit);
    r.samples = 32;
    r.lossSum = 0.1 * unit;
    r.correct = unit;
    r.contributor = 1 + unit % 3;
    return r;
}

}  // namespace

class OrderedGradientSumTest : public QObject {
    Q_OBJECT
private slots:
    // A summed gradient's memory is kept for the next result to decode into, up to a bound, and
    // only of the size asked for.
    void summedGradientsAreKeptForTheNextDecode() {
        GradientBuffers& buffers = GradientBuffers::shared();
        while (buffers.take(kParameters).size() == kParameters) {
        }
        const std::size_t reused = buffers.reused();
        OrderedGradientSum sum(kParameters);
        QList<ledger::WorkUnit> units = stepUnits();
        std::map<ledger::WorkUnitId, StoredResult> waiting;
        std::vector<const float*> memory;
        for (int i = 0; i < 3; ++i) {
            units[i].state = ledger::WorkUnitState::Done;
            waiting[units[i].id] = resultOf(i);
            memory.push_back(waiting[units[i].id].gradient.data());
        }
        sum.advance(units, [&](ledger::WorkUnitId id) { return std::move(waiting.at(id)); });
        QCOMPARE(sum.summed(), std::size_t(3));
        QCOMPARE(buffers.keptBuffers(), std::size_t(3));
        for (int i = 0; i < 3; ++i) {
            const std::vector<float> again = buffers.take(kParameters);
            QCOMPARE(again.size(), kParameters);
            QVERIFY(std::find(memory.begin(), memory.end(), again.data()) != memory.end());
        }
        QCOMPARE(buffers.reused() - reused, std::size_t(3));
        QCOMPARE(buffers.take(kParameters).size(), std::size_t(0));  // none left: decode into fresh memory
    }

    void keptBuffersAreBoundedAndOfOneSize() {
        GradientBuffers buffers;
        QCOMPARE(buffers.take(1000).size(), std::size_t(0));
        QCOMPARE(buffers.missed(), std::size_t(1));
        buffers.giveBack(std::vector<float>(1000));
        QCOMPARE(buffers.take(999).size(), std::size_t(0));  // another model's size
        QCOMPARE(buffers.keptBuffers(), std::size_t(1));
        buffers.giveBack(std::vector<float>(500));  // another job's model: replaces what was kept
        QCOMPARE(buffers.keptBuffers(), std::size_t(1));
        QCOMPARE(buffers.take(1000).size(), std::size_t(0));
        QCOMPARE(buffers.take(500).size(), std::size_t(500));
        const std::size_t large = GradientBuffers::kKeptBytes / sizeof(float) / 4;  // 4 fit, the 5th not
        for (int i = 0; i < 6; ++i) buffers.giveBack(std::vector<float>(large));
        QCOMPARE(buffers.keptBuffers(), std::size_t(4));
        buffers.giveBack(std::vector<float>());  // a gradient moved out already: nothing kept
        QCOMPARE(buffers.keptBuffers(), std::size_t(4));
    }

    void resultsInAnyOrderGiveTheBitsOfTheSumInUnitOrder() {
        std::vector<int> idOrder(kUnits);
        for (int i = 0; i < kUnits; ++i) idOrder[static_cast<std::size_t>(i)] = i;
        std::vector<int> arrival = idOrder;
        std::shuffle(arrival.begin(), arrival.end(), std::mt19937(7));
        const std::vector<float> expected = sumInOrder(idOrder);
        // The test can fail: in arrival order the bits differ.
        QVERIFY(!sameBits(expected, sumInOrder(arrival)));

        OrderedGradientSum sum(kParameters);
        QList<ledger::WorkUnit> units = stepUnits();
        std::map<ledger::WorkUnitId, StoredResult> waiting;  // accepted, not yet summed (the runner's memory)
        std::size_t mostWaiting = 0;
        const auto take = [&](ledger::WorkUnitId id) {
            const auto it = waiting.find(id);
            if (it == waiting.end()) qFatal("a unit was taken before it was accepted");
            StoredResult r = std::move(it->second);
            waiting.erase(it);
            return r;
        };
        for (int unit : arrival) {
            waiting[100 + unit] = resultOf(unit);
            units[unit].state = ledger::WorkUnitState::Done;
            sum.advance(units, take);
            // Summed: the done prefix in id order, and nothing else.
            std::size_t prefix = 0;
            while (prefix < static_cast<std::size_t>(kUnits) &&
                   units[static_cast<qsizetype>(prefix)].state == ledger::WorkUnitState::Done)
                ++prefix;
            QCOMPARE(sum.summed(), prefix);
            QCOMPARE(waiting.size(), static_cast<std::size_t>(std::count_if(
                                         units.begin(), units.end(),
                                         [](const auto& u) { return u.state == ledger::WorkUnitState::Done; })) -
                                         prefix);
            mostWaiting = std::max(mostWaiting, waiting.size());
        }
        QVERIFY(waiting.empty());  // every gradient was handed over and freed once summed
        QVERIFY(mostWaiting < static_cast<std::size_t>(kUnits));
        QCOMPARE(sum.summed(), static_cast<std::size_t>(kUnits));
        QCOMPARE(sum.samples(), std::int64_t(32 * kUnits));
        double lossSum = 0.0;
        for (int unit : idOrder) lossSum += 0.1 * unit;
        QCOMPARE(sum.lossSum(), lossSum);  // in id order too
        QCOMPARE(sum.contributors(), (QList<ledger::ContributorId>{1, 2, 3}));
        QVERIFY(sameBits(sum.gradient(), expected));
        const std::vector<float> taken = sum.takeGradient();
        QVERIFY(sameBits(taken, expected));
        QCOMPARE(sum.summed(), std::size_t(0));  // ready for the next step
    }

    void afterARestartTheDoneResultsComeFromTheirFiles() {
        // Units 0..9 were accepted before a restart (their results are read back), 10.. after it.
        OrderedGradientSum sum(kParameters);
        QList<ledger::WorkUnit> units = stepUnits();
        for (int i = 0; i < 10; ++i) units[i].state = ledger::WorkUnitState::Done;
        int readBack = 0;
        sum.advance(units, [&](ledger::WorkUnitId id) {
            ++readBack;
            return resultOf(static_cast<int>(id - 100));
        });
        QCOMPARE(readBack, 10);
        for (int i = 10; i < kUnits; ++i) units[i].state = ledger::WorkUnitState::Done;
        sum.advance(units, [](ledger::WorkUnitId id) { return resultOf(static_cast<int>(id - 100)); });
        std::vector<int> idOrder(kUnits);
        for (int i = 0; i < kUnits; ++i) idOrder[static_cast<std::size_t>(i)] = i;
        QVERIFY(sameBits(sum.gradient(), sumInOrder(idOrder)));
    }

    void anotherStepsListOrAWrongSizeIsRefused() {
        OrderedGradientSum sum(kParameters);
        QList<ledger::WorkUnit> units = stepUnits();
        units[0].state = ledger::WorkUnitState::Done;
        sum.advance(units, [](ledger::WorkUnitId id) { return resultOf(static_cast<int>(id - 100)); });
        QList<ledger::WorkUnit> other = units;
        other[0].id = 999;
        QVERIFY_THROWS_EXCEPTION(raven::Error, sum.advance(other, [](ledger::WorkUnitId) { return resultOf(0); }));
        units[1].state = ledger::WorkUnitState::Done;
        QVERIFY_THROWS_EXCEPTION(raven::Error, sum.advance(units, [](ledger::WorkUnitId) {
            StoredResult r;
            r.gradient.assign(3, 1.0f);
            return r;
        }));
        QCOMPARE(sum.summed(), std::size_t(1));
    }
};

QTEST_GUILESS_MAIN(OrderedGradientSumTest)
#include "tst_OrderedGradientSum.moc"
