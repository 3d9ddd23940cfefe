// The op table (tests/common/OpCases.h) on the CPU backend: every row gives bit-identical results at
// 1, 2, 4 and 7 threads, and every differentiable row passes the finite-difference check.
#include <QtTest>

#include "common/GradCheck.h"
#include "common/OpCases.h"
#include "cpu/CpuBackend.h"

using namespace raven;
using raven::test::OpCase;
using raven::test::opCases;

class OpCasesTest : public QObject {
    Q_OBJECT

    static void addRows() {
        QTest::addColumn<int>("row");
        for (size_t i = 0; i < opCases().size(); ++i) QTest::newRow(opCases()[i].name.c_str()) << static_cast<int>(i);
    }

private slots:
    void sameBitsAtEveryThreadCount_data() { addRows(); }
    void sameBitsAtEveryThreadCount() {
        QFETCH(int, row);
        OpCase c = opCases()[static_cast<size_t>(row)];
        c.tolerance = raven::test::Tolerance::exact();
        CpuBackend one(1);
        for (int threads : {2, 4, 7}) {
            CpuBackend many(threads);
            const auto o = raven::test::compareBackends(c, many, one);
            QVERIFY2(o.passed, qPrintable(QString("%1 threads against 1: %2").arg(threads).arg(o.detail.c_str())));
        }
    }

    void finiteDifferences_data() { addRows(); }
    void finiteDifferences() {
        QFETCH(int, row);
        const OpCase& c = opCases()[static_cast<size_t>(row)];
        if (!c.gradient) QSKIP("not differentiable through autograd in this row");
        CpuBackend& backend = cpuBackendInstance();
        raven::test::GradCheckOptions options;
        options.skip = c.noGradient;
        const auto r = raven::test::checkGradients(c.gradient, raven::test::makeInputs(c, backend, 3), options);
        QVERIFY2(r.ok, r.report.c_str());
    }
};

QTEST_APPLESS_MAIN(OpCasesTest)
#include "TestOpCases.moc"
