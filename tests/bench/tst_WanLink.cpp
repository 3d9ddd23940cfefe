// The WAN bed's link model and switch as pure functions: every frame leaves exactly the one-way delay
// after it came, in order; loss follows the seed and the rate; the queue bound holds; frames go to the
// port their destination was learned on, floods never return to the sender.
#include <QtTest>

#include <algorithm>
#include <stdexcept>

#include "DelayLine.h"
#include "PortTable.h"

using namespace raven::bench::wan;
using namespace std::chrono_literals;

namespace {

const Clock::time_point kT0 = Clock::time_point{} + 1000s;

// The number sits in bytes 20-21 (where an IPv4 header's would be), so a frame has at least 22.
std::vector<std::byte> frameNumbered(int n, std::size_t size = 64) {
    std::vector<std::byte> bytes(std::max<std::size_t>(size, 22));
    bytes[20] = static_cast<std::byte>(n & 0xff);
    bytes[21] = static_cast<std::byte>((n >> 8) & 0xff);
    return bytes;
}

int numberOf(const Packet& p) { return std::to_integer<int>(p.bytes[20]) | (std::to_integer<int>(p.bytes[21]) << 8); }

std::vector<bool> lossPattern(std::uint64_t seed, int count) {
    DelayLine line({.oneWayDelay = 1ms, .lossProbability = 0.3, .seed = seed});
    std::vector<bool> admitted;
    for (int i = 0; i < count; ++i) admitted.push_back(line.admit(frameNumbered(i), 0, kT0));
    return admitted;
}

std::vector<std::byte> ethernet(Mac destination, Mac source) {
    std::vector<std::byte> frame(60);
    for (int i = 0; i < 6; ++i) {
        frame[static_cast<std::size_t>(i)] = static_cast<std::byte>(destination[static_cast<std::size_t>(i)]);
        frame[static_cast<std::size_t>(6 + i)] = static_cast<std::byte>(source[static_cast<std::size_t>(i)]);
    }
    return frame;
}

const Mac kCoordinator{0x02, 0, 0, 0, 0, 0x01};
const Mac kWorker1{0x02, 0, 0, 0, 0, 0x11};
const Mac kWorker2{0x02, 0, 0, 0, 0, 0x12};
const Mac kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

}  // namespace

class WanLinkTest : public QObject {
    Q_OBJECT
private slots:
    void everyFrameLeavesExactlyTheDelayLater();
    void orderIsKeptAcrossPorts();
    void lossFollowsTheSeedAndTheRate();
    void theQueueBoundDropsWhatDoesNotFit();
    void aBadModelIsRefused();
    void framesGoWhereTheirDestinationWasLearned();
    void floodsNeverReturnToTheSender();
};

void WanLinkTest::everyFrameLeavesExactlyTheDelayLater() {
    DelayLine line({.oneWayDelay = 25ms});
    QCOMPARE(line.untilNextDue(kT0), std::chrono::microseconds(-1));  // empty: wait for input
    QVERIFY(line.admit(frameNumbered(0), 1, kT0));
    QVERIFY(line.admit(frameNumbered(1), 2, kT0 + 3ms));
    QCOMPARE(line.untilNextDue(kT0), std::chrono::microseconds(25000));
    QCOMPARE(line.untilNextDue(kT0 + 10ms + 500ns), std::chrono::microseconds(15000));  // rounded up
    QVERIFY(line.takeDue(kT0 + 25ms - 1us).empty());
    auto first = line.takeDue(kT0 + 25ms);
    QCOMPARE(first.size(), std::size_t(1));
    QCOMPARE(numberOf(first[0]), 0);
    QCOMPARE(first[0].port, 1);
    QCOMPARE(first[0].due, kT0 + 25ms);
    QCOMPARE(line.untilNextDue(kT0 + 25ms), std::chrono::microseconds(3000));
    QCOMPARE(line.untilNextDue(kT0 + 40ms), std::chrono::microseconds(0));  // overdue: send now
    auto second = line.takeDue(kT0 + 40ms);
    QCOMPARE(second.size(), std::size_t(1));
    QCOMPARE(second[0].port, 2);
    QCOMPARE(line.queuedPackets(), std::size_t(0));
    QCOMPARE(line.queuedBytes(), std::size_t(0));
    QCOMPARE(line.counters().delivered, std::uint64_t(2));
}

void WanLinkTest::orderIsKeptAcrossPorts() {
    DelayLine line({.oneWayDelay = 50ms});
    for (int i = 0; i < 1000; ++i) QVERIFY(line.admit(frameNumbered(i), i % 3, kT0 + std::chrono::microseconds(i * 7)));
    std::vector<int> seen;
    for (auto t = kT0; seen.size() < 1000; t += 1ms)
        for (const auto& p : line.takeDue(t)) {
            QVERIFY(p.due <= t);
            seen.push_back(numberOf(p));
        }
    for (int i = 0; i < 1000; ++i) QCOMPARE(seen[static_cast<std::size_t>(i)], i);
}

void WanLinkTest::lossFollowsTheSeedAndTheRate() {
    const auto a = lossPattern(7, 20000);
    QCOMPARE(lossPattern(7, 20000), a);  // the same seed loses the same frames
    QVERIFY(lossPattern(8, 20000) != a);
    const auto kept = std::count(a.begin(), a.end(), true);
    // 30% loss of 20000: 6000 expected, standard deviation about 65.
    QVERIFY2(kept > 13600 && kept < 14400, qPrintable(QString::number(kept)));

    DelayLine lossless({.oneWayDelay = 1ms, .lossProbability = 0.0, .seed = 7});
    for (int i = 0; i < 5000; ++i) QVERIFY(lossless.admit(frameNumbered(i), 0, kT0));
    QCOMPARE(lossless.counters().lost, std::uint64_t(0));
    QCOMPARE(lossless.takeDue(kT0 + 1ms).size(), std::size_t(5000));
}

void WanLinkTest::theQueueBoundDropsWhatDoesNotFit() {
    DelayLine line({.oneWayDelay = 10ms, .maxQueuedBytes = 3000});
    QVERIFY(line.admit(frameNumbered(0, 1500), 0, kT0));
    QVERIFY(line.admit(frameNumbered(1, 1500), 0, kT0));
    QVERIFY(!line.admit(frameNumbered(2, 1500), 0, kT0));
    QCOMPARE(line.counters().overflow, std::uint64_t(1));
    QCOMPARE(line.takeDue(kT0 + 10ms).size(), std::size_t(2));
    QVERIFY(line.admit(frameNumbered(3, 1500), 0, kT0 + 10ms));  // room again once they left
}

void WanLinkTest::aBadModelIsRefused() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, DelayLine({.oneWayDelay = -1ms}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, DelayLine({.lossProbability = 1.0}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, DelayLine({.lossProbability = -0.1}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PortTable(1));
}

void WanLinkTest::framesGoWhereTheirDestinationWasLearned() {
    PortTable table(3);
    // Unknown destination: every other port; the sender's place is learned.
    QCOMPARE(table.route(ethernet(kWorker1, kCoordinator), 0), (std::vector<int>{1, 2}));
    QCOMPARE(table.portOf(kCoordinator), 0);
    QCOMPARE(table.route(ethernet(kCoordinator, kWorker1), 1), (std::vector<int>{0}));
    QCOMPARE(table.route(ethernet(kWorker1, kCoordinator), 0), (std::vector<int>{1}));
    QCOMPARE(table.route(ethernet(kCoordinator, kWorker2), 2), (std::vector<int>{0}));
    QCOMPARE(table.route(ethernet(kWorker2, kCoordinator), 0), (std::vector<int>{2}));
    // A station that moves is found on its new port.
    QCOMPARE(table.route(ethernet(kCoordinator, kWorker1), 2), (std::vector<int>{0}));
    QCOMPARE(table.portOf(kWorker1), 2);
}

void WanLinkTest::floodsNeverReturnToTheSender() {
    PortTable table(4);
    QCOMPARE(table.route(ethernet(kBroadcast, kWorker2), 2), (std::vector<int>{0, 1, 3}));
    QCOMPARE(table.portOf(kBroadcast), -1);  // a group address is never learned
    QCOMPARE(table.route(ethernet(kWorker1, kBroadcast), 1), (std::vector<int>{0, 2, 3}));
    QCOMPARE(table.portOf(kBroadcast), -1);
    // A destination behind the sender's own port: nothing leaves.
    table.route(ethernet(kBroadcast, kWorker1), 1);
    QVERIFY(table.route(ethernet(kWorker1, kCoordinator), 1).empty());
    // Runts and out-of-range ports are dropped, not crashed on.
    QVERIFY(table.route(std::vector<std::byte>(13), 0).empty());
    QVERIFY(table.route(ethernet(kWorker1, kCoordinator), 4).empty());
}

QTEST_GUILESS_MAIN(WanLinkTest)
#include "tst_WanLink.moc"
