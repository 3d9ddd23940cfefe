// WorkBuffer: the worker's low and high water marks of units on hand.
#include <QTest>

#include "worker/WorkBuffer.h"

using namespace raven::worker;

class TestWorkBuffer : public QObject {
    Q_OBJECT

private slots:
    void asksBelowTheLowMarkUpToTheHighMark() {
        const WorkBuffer buffer(2, 5);
        QCOMPARE(buffer.toRequest(0), 5);
        QCOMPARE(buffer.toRequest(1), 4);
        QCOMPARE(buffer.toRequest(2), 0);  // at the low mark: enough on hand
        QCOMPARE(buffer.toRequest(4), 0);
        QCOMPARE(buffer.toRequest(7), 0);  // more than high (a grant of units already asked for)
    }

    void equalMarksKeepItTopped() {
        const WorkBuffer buffer(2, 2);
        QCOMPARE(buffer.toRequest(0), 2);
        QCOMPARE(buffer.toRequest(1), 1);  // one computing: the next is asked for while it computes
        QCOMPARE(buffer.toRequest(2), 0);
    }

    void marksAreClamped() {
        const WorkBuffer none(0, 0);
        QCOMPARE(none.high(), 1);
        QCOMPARE(none.low(), 1);
        QCOMPARE(none.toRequest(0), 1);
        QCOMPARE(none.toRequest(1), 0);
        const WorkBuffer inverted(9, 3);
        QCOMPARE(inverted.low(), 3);
        QCOMPARE(inverted.toRequest(2), 1);
    }
};

QTEST_GUILESS_MAIN(TestWorkBuffer)
#include "tst_WorkBuffer.moc"
