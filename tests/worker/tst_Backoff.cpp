// Backoff: the reconnection schedule (0.5 s doubling to 30 s), its jitter (only ever shortening a
// delay, by at most a quarter) and the reset after a good session.
#include <QTest>

#include <set>

#include "worker/Backoff.h"

using raven::worker::Backoff;

class TestBackoff : public QObject {
    Q_OBJECT

private slots:
    void baseSchedule() {
        const Backoff::Schedule s;
        const int expected[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
        for (int i = 0; i < 9; ++i) QCOMPARE(Backoff::baseDelayMs(s, i), expected[i]);
        QCOMPARE(Backoff::baseDelayMs(s, 1000), 30000);  // no overflow after a long outage
    }

    void jitterShortensByAtMostAQuarter() {
        Backoff backoff({}, 42);
        for (int i = 0; i < 40; ++i) {
            const int base = Backoff::baseDelayMs(backoff.schedule(), i);
            const int delay = backoff.nextDelayMs();
            QVERIFY2(delay <= base && delay >= base * 3 / 4,
                     qPrintable(QStringLiteral("%1 vs %2").arg(delay).arg(base)));
        }
        QCOMPARE(backoff.attempts(), 40);
    }

    void jitterSpreadsWorkers() {
        std::set<int> firstDelays;
        for (std::uint64_t seed = 1; seed <= 20; ++seed) firstDelays.insert(Backoff({}, seed).nextDelayMs());
        QVERIFY2(firstDelays.size() >= 10, "twenty workers should not all wait the same time");
        QCOMPARE(Backoff({}, 7).nextDelayMs(), Backoff({}, 7).nextDelayMs());  // seeded: reproducible
    }

    void resetStartsOver() {
        Backoff backoff({}, 3);
        for (int i = 0; i < 6; ++i) backoff.nextDelayMs();
        QVERIFY(backoff.nextDelayMs() > 20000);
        backoff.reset();
        QCOMPARE(backoff.attempts(), 0);
        QVERIFY(backoff.nextDelayMs() <= 500);
    }

    void noJitterIsTheSchedule() {
        Backoff backoff({.initialMs = 100, .maxMs = 1000, .jitter = 0.0}, 1);
        for (int expected : {100, 200, 400, 800, 1000, 1000}) QCOMPARE(backoff.nextDelayMs(), expected);
    }
};

QTEST_GUILESS_MAIN(TestBackoff)
#include "tst_Backoff.moc"
