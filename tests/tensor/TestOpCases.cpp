// The op table (tests/common/OpCases.h) on the CPU backend, in both kernel modes (KernelMode.h):
//  - every row gives bit-identical results at 1, 2, 4 and 7 threads, fast and verifiable;
//  - the verifiable kernels agree with the fast ones within each row's tolerance, and rows without a
//    verifiable kernel are refused in that mode with a raven::Error (never computed unverifiably);
//  - every differentiable row passes the finite-difference check in both modes;
//  - the verifiable kernels' translation unit does not fuse a multiply-add (the contraction probe).
#include <QtTest>

#include <cmath>
#include <random>

#include "common/GradCheck.h"
#include "common/OpCases.h"
#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "cpu/kernels/VerifiableGemm.h"
#include "cpu/kernels/VerifiableMath.h"

using namespace raven;
using raven::test::OpCase;
using raven::test::OpInput;
using raven::test::opCases;

class OpCasesTest : public QObject {
    Q_OBJECT

    // Every row, in both modes.
    static void addRows() {
        QTest::addColumn<int>("row");
        QTest::addColumn<bool>("verifiable");
        for (bool verifiable : {false, true})
            for (size_t i = 0; i < opCases().size(); ++i)
                QTest::addRow("%s %s", verifiable ? "verifiable" : "fast", opCases()[i].name.c_str())
                    << static_cast<int>(i) << verifiable;
    }
    static void addVerifiableRows() {
        QTest::addColumn<int>("row");
        for (size_t i = 0; i < opCases().size(); ++i) QTest::newRow(opCases()[i].name.c_str()) << static_cast<int>(i);
    }
    static KernelMode modeOf(bool verifiable) { return verifiable ? KernelMode::Verifiable : KernelMode::Fast; }

private slots:
    void sameBitsAtEveryThreadCount_data() { addRows(); }
    void sameBitsAtEveryThreadCount() {
        QFETCH(int, row);
        QFETCH(bool, verifiable);
        OpCase c = opCases()[static_cast<size_t>(row)];
        if (verifiable && !c.verifiable) QSKIP("no verifiable kernel (refusedWithoutAVerifiableKernel)");
        c.tolerance = raven::test::Tolerance::exact();
        CpuBackend one(1);
        one.setKernelMode(modeOf(verifiable));
        for (int threads : {2, 4, 7}) {
            CpuBackend many(threads);
            many.setKernelMode(modeOf(verifiable));
            const auto o = raven::test::compareBackends(c, many, one);
            QVERIFY2(o.passed, qPrintable(QString("%1 threads against 1: %2").arg(threads).arg(o.detail.c_str())));
        }
    }

    void verifiableAgreesWithFast_data() { addVerifiableRows(); }
    void verifiableAgreesWithFast() {
        QFETCH(int, row);
        const OpCase& c = opCases()[static_cast<size_t>(row)];
        if (!c.verifiable) QSKIP("no verifiable kernel (refusedWithoutAVerifiableKernel)");
        CpuBackend fast(4), verifiable(4);
        verifiable.setKernelMode(KernelMode::Verifiable);
        const auto o = raven::test::compareBackends(c, verifiable, fast);
        QVERIFY2(o.passed, o.detail.c_str());
    }

    void refusedWithoutAVerifiableKernel_data() { addVerifiableRows(); }
    void refusedWithoutAVerifiableKernel() {
        QFETCH(int, row);
        const OpCase& c = opCases()[static_cast<size_t>(row)];
        if (c.verifiable) QSKIP("has a verifiable kernel");
        CpuBackend verifiable(2);
        verifiable.setKernelMode(KernelMode::Verifiable);
        const std::vector<Tensor> inputs = raven::test::makeInputs(c, verifiable, 1);
        try {
            c.run(verifiable, inputs);
            QFAIL("computed in the verifiable mode without a verifiable kernel");
        } catch (const raven::Error& e) {
            QVERIFY2(QString(e.what()).contains("no verifiable kernel"), e.what());
        }
    }

    void finiteDifferences_data() { addRows(); }
    void finiteDifferences() {
        QFETCH(int, row);
        QFETCH(bool, verifiable);
        const OpCase& c = opCases()[static_cast<size_t>(row)];
        if (!c.gradient) QSKIP("not differentiable through autograd in this row");
        if (verifiable && !c.verifiable) QSKIP("no verifiable kernel");
        CpuBackend backend(2);
        backend.setKernelMode(modeOf(verifiable));
        raven::test::GradCheckOptions options;
        options.skip = c.noGradient;
        const auto r = raven::test::checkGradients(c.gradient, raven::test::makeInputs(c, backend, 3), options);
        QVERIFY2(r.ok, r.report.c_str());
    }

    // The verifiable mode computes with its own kernels: exp is VerifiableMath's, bit for bit, and a
    // product is the sequential sum of VerifiableGemm.h, bit for bit.
    void verifiableModeUsesItsOwnKernels() {
        CpuBackend verifiable(3);
        verifiable.setKernelMode(KernelMode::Verifiable);
        std::vector<float> xs;
        for (int i = 0; i < 20000; ++i) xs.push_back(-90.0f + 0.009f * static_cast<float>(i));
        const std::vector<float> e = verifiable.unary(UnaryOp::Exp, fromVector({20000}, xs, verifiable)).toVector();
        for (size_t i = 0; i < xs.size(); ++i) QCOMPARE(e[i], verifiable::vExp(xs[i]));

        const int64_t m = 5, k = 37, n = 11;
        const std::vector<float> a = raven::test::inputValues({{m, k}}, 1), b = raven::test::inputValues({{k, n}}, 2);
        const std::vector<float> got =
            verifiable.matmul(fromVector({m, k}, a, verifiable), fromVector({k, n}, b, verifiable), Tensor()).toVector();
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                float acc = 0.0f;
                for (int64_t p = 0; p < k; ++p) {
                    const float product = a[static_cast<size_t>(i * k + p)] * b[static_cast<size_t>(p * n + j)];
                    acc = acc + product;
                }
                QCOMPARE(got[static_cast<size_t>(i * n + j)], acc);
            }
    }

    // The fused Adam pass gives the bits of the step composed of elementwise kernels, in both modes.
    void fusedAdamEqualsComposed() {
        for (bool verifiable : {false, true}) {
            CpuBackend b(3);
            b.setKernelMode(modeOf(verifiable));
            const OpInput shape{{301, 7}};
            const Tensor p = fromVector({301, 7}, raven::test::inputValues(shape, 1), b);
            const Tensor g = fromVector({301, 7}, raven::test::inputValues(shape, 2), b);
            const Tensor m = fromVector({301, 7}, raven::test::inputValues(shape, 3), b);
            const Tensor v = b.unary(UnaryOp::Abs, fromVector({301, 7}, raven::test::inputValues(shape, 4), b));
            AdamStepScalars s;
            s.weightDecay = 0.01f;
            s.invSqrtCorrection2 = 1.7f;
            const AdamUpdate fused = b.adamUpdate(p, g, m, v, s);
            const AdamUpdate composed = b.Backend::adamUpdate(p, g, m, v, s);
            QCOMPARE(raven::test::firstBitDifference(fused.param.toVector(), composed.param.toVector()), int64_t{-1});
            QCOMPARE(raven::test::firstBitDifference(fused.expAvgSq.toVector(), composed.expAvgSq.toVector()),
                     int64_t{-1});
        }
    }

    // The verifiable Adam pass (vectorized, and cloned for AVX2 and AVX-512) against the step written
    // out one element at a time with VerifiableMath.h, on values that take every path of the branch-free
    // sqrt and division: zeros of both signs, subnormals, huge and tiny moments, infinities and NaN.
    void verifiableAdamEqualsScalarReference() {
        const int64_t n = 1031;  // not a multiple of any vector width: the remainder loop too
        std::vector<float> p(n), g(n), m(n), v(n);
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> unit(-2.0f, 2.0f);
        const float specials[] = {0.0f, -0.0f, 0x1p-149f, -0x1p-140f, 0x1p-126f, 3e38f, -3e38f, 1e-30f,
                                  INFINITY, -INFINITY, NAN, 1.0f};
        for (int64_t i = 0; i < n; ++i) {
            const auto u = static_cast<size_t>(i);
            p[u] = unit(rng);
            g[u] = i % 7 == 0 ? specials[static_cast<size_t>(i / 7) % std::size(specials)] : unit(rng);
            m[u] = i % 11 == 0 ? specials[static_cast<size_t>(i / 11) % std::size(specials)] : unit(rng);
            v[u] = i % 13 == 0 ? std::fabs(specials[static_cast<size_t>(i / 13) % std::size(specials)])
                               : std::fabs(unit(rng)) * (i % 3 == 0 ? 1e-20f : 1.0f);
        }
        for (const bool coupled : {false, true}) {
            CpuBackend b(2);
            b.setKernelMode(KernelMode::Verifiable);
            AdamStepScalars s;
            s.invSqrtCorrection2 = 1.7f;
            s.weightDecay = coupled ? 0.01f : 0.0f;
            const AdamUpdate got = b.adamUpdate(fromVector({n}, p, b), fromVector({n}, g, b), fromVector({n}, m, b),
                                                fromVector({n}, v, b), s);
            const std::vector<float> gotP = got.param.toVector(), gotV = got.expAvgSq.toVector();
            for (int64_t i = 0; i < n; ++i) {
                const auto u = static_cast<size_t>(i);
                float gi = g[u];
                if (coupled) {
                    const float decay = p[u] * s.weightDecay;
                    gi = gi + decay;
                }
                const float ga = gi * s.oneMinusBeta1;
                const float mi = m[u] * s.beta1 + ga;
                const float gg = gi * gi;
                const float gga = gg * s.oneMinusBeta2;
                const float vi = v[u] * s.beta2 + gga;
                const float root = verifiable::vSqrt(vi);
                const float denom = root * s.invSqrtCorrection2 + s.eps;
                const float ratio = verifiable::vDiv(mi, denom);
                const float stepped = ratio * s.stepSize;
                const float want = p[u] - stepped;
                QVERIFY2(raven::test::firstBitDifference({gotP[u]}, {want}) < 0 &&
                             raven::test::firstBitDifference({gotV[u]}, {vi}) < 0,
                         qPrintable(QString("element %1 (g %2, m %3, v %4): %5, want %6")
                                        .arg(i).arg(g[u]).arg(m[u]).arg(v[u]).arg(gotP[u]).arg(want)));
            }
        }
    }

    // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 rounds (ties to even) to 1 + 2^-11, so a*b - (1 + 2^-11) is 0
    // when the product is rounded on its own and 2^-24 when it is fused into the subtraction.
    void verifiableKernelsDoNotFuseMultiplyAdd() {
        volatile float a = 1.0f + 0x1p-12f, c = -(1.0f + 0x1p-11f);
        QCOMPARE(cpu::kernels::fixedOrderMultiplyAdd(a, a, c), 0.0f);
        CpuBackend verifiable(1);
        verifiable.setKernelMode(KernelMode::Verifiable);
        const Tensor x = fromVector({1, 1}, {a}, verifiable), y = fromVector({1, 1}, {a}, verifiable);
        const Tensor bias = fromVector({1}, {c}, verifiable);
        QCOMPARE(verifiable.matmul(x, y, bias).toVector()[0], 0.0f);
    }
};

QTEST_APPLESS_MAIN(OpCasesTest)
#include "TestOpCases.moc"
