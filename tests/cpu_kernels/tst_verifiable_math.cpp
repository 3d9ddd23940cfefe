// VerifiableMath (core/cpu/kernels/VerifiableMath.h): its accuracy against double-precision <cmath>
// over millions of arguments, IEEE's special values, golden bits that any change of the functions
// (or a compiler that fused or reordered them) would alter, and the line-by-line correspondence with
// its GLSL twin compute-shaders/include/verifiable_math.glsl.
#include <QTest>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cpu/kernels/VerifiableGemm.h"
#include "cpu/kernels/VerifiableMath.h"

using namespace raven::verifiable;

namespace {

// |got - want| in units of the last place of want rounded to float.
double ulpError(float got, double want) {
    if (std::isnan(want)) return std::isnan(got) ? 0.0 : 1e30;
    const auto w = static_cast<float>(want);
    if (std::isinf(w)) return got == w ? 0.0 : 1e30;
    const double ulp = std::nextafter(std::fabs(w), INFINITY) - std::fabs(w);
    return std::fabs(static_cast<double>(got) - want) / ulp;
}

struct Sweep {
    double worst = 0.0;
    float at = 0.0f;
};

template <class F, class R>
Sweep sweep(F f, R reference, float low, float high, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(low, high);
    Sweep s;
    for (int i = 0; i < 300000; ++i) {
        const float x = dist(rng);
        const double e = ulpError(f(x), reference(static_cast<double>(x)));
        if (e > s.worst) s = {e, x};
    }
    return s;
}

std::uint32_t bitsOf(float x) {
    std::uint32_t b = 0;
    std::memcpy(&b, &x, sizeof b);
    return b;
}

// FNV-1a over the bits of f on a fixed grid: a fingerprint of the function's every rounding.
template <class F>
std::uint64_t fingerprint(F f, float low, float step, int count) {
    std::uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < count; ++i) {
        const std::uint32_t b = bitsOf(f(low + step * static_cast<float>(i)));
        for (int k = 0; k < 4; ++k) h = (h ^ ((b >> (8 * k)) & 0xffu)) * 1099511628211ull;
    }
    return h;
}

// sgemmFixedOrder on seeded operands, both layouts, beta 0 and 1: the fingerprint of its every sum.
std::uint64_t gemmFingerprint() {
    const int64_t m = 37, n = 53, k = 129;
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
    std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)), c(static_cast<size_t>(m * n));
    for (float& x : a) x = dist(rng);
    for (float& x : b) x = dist(rng);
    for (float& x : c) x = dist(rng);
    std::vector<float> out = c;
    raven::cpu::kernels::sgemmFixedOrder(m, n, k, a.data(), k, false, b.data(), n, false, 0.0f, out.data(), n);
    std::vector<float> t = c;  // A read as the transpose of a k x m matrix, B of an n x k one, beta 1
    raven::cpu::kernels::sgemmFixedOrder(m, n, k, a.data(), m, true, b.data(), k, true, 1.0f, t.data(), n);
    out.insert(out.end(), t.begin(), t.end());
    size_t i = 0;
    return fingerprint([&](float) { return out[i++]; }, 0.0f, 1.0f, static_cast<int>(out.size()));
}

std::vector<std::string> normalizedLines(const std::string& path, const std::string& from, const std::string& to) {
    std::ifstream in(path);
    std::vector<std::string> out;
    std::string line;
    bool inside = false;
    while (std::getline(in, line)) {
        if (!inside) {
            inside = line.rfind(from, 0) == 0;
            continue;
        }
        if (line.rfind(to, 0) == 0) break;
        if (line.rfind("using glm::", 0) == 0 || line.empty()) continue;
        for (const char* word : {"inline ", "precise ", "constexpr ", "const ", "out "}) {
            for (size_t p; (p = line.find(word)) != std::string::npos;) line.erase(p, std::strlen(word));
        }
        for (size_t p; (p = line.find("int& ")) != std::string::npos;) line.replace(p, 5, "int ");
        out.push_back(line);
    }
    return out;
}

}  // namespace

class VerifiableMathTest : public QObject {
    Q_OBJECT

private slots:
    void accuracy_data() {
        QTest::addColumn<int>("fn");
        QTest::addColumn<double>("maxUlp");
        QTest::addRow("exp") << 0 << 2.0;
        QTest::addRow("log") << 1 << 3.0;
        QTest::addRow("tanh") << 2 << 4.0;
        QTest::addRow("sigmoid") << 3 << 4.0;
        QTest::addRow("erf") << 4 << 8.0;
        QTest::addRow("sqrt") << 5 << 0.5;
        QTest::addRow("expm1") << 6 << 5.0;
    }
    void accuracy() {
        QFETCH(int, fn);
        QFETCH(double, maxUlp);
        Sweep s;
        switch (fn) {
            case 0:
                s = sweep(
                    vExp, [](double x) { return std::exp(x); }, -86.0f, 88.0f, 1);
                break;
            case 1:
                s = sweep(
                    vLog, [](double x) { return std::log(x); }, 1e-6f, 1e6f, 2);
                break;
            case 2:
                s = sweep(
                    vTanh, [](double x) { return std::tanh(x); }, -10.0f, 10.0f, 3);
                break;
            case 3:
                s = sweep(
                    vSigmoid, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, -30.0f, 30.0f, 4);
                break;
            case 4:
                s = sweep(
                    vErf, [](double x) { return std::erf(x); }, -5.0f, 5.0f, 5);
                break;
            case 5:
                s = sweep(
                    vSqrt, [](double x) { return std::sqrt(x); }, 0.0f, 1e30f, 6);
                break;
            default:
                s = sweep(
                    vExpm1, [](double x) { return std::expm1(x); }, -1.0f, 1.0f, 7);
                break;
        }
        QVERIFY2(s.worst <= maxUlp, qPrintable(QString("%1 ulp at %2").arg(s.worst).arg(s.at)));
    }

    void smallArguments() {
        // Relative accuracy where the result is tiny, not just absolute.
        for (float x : {1e-3f, -2e-5f, 3e-8f, 1e-20f}) {
            QVERIFY(ulpError(vTanh(x), std::tanh(static_cast<double>(x))) <= 4.0);
            QVERIFY(ulpError(vErf(x), std::erf(static_cast<double>(x))) <= 4.0);
            QVERIFY(ulpError(vExpm1(x), std::expm1(static_cast<double>(x))) <= 4.0);
            QVERIFY(ulpError(vLog(1.0f + x), std::log(1.0 + static_cast<double>(1.0f + x) - 1.0)) <= 4.0 || x < 1e-7f);
        }
    }

    void division() {
        std::mt19937 rng(9);
        std::uniform_real_distribution<float> mant(-100.0f, 100.0f), expo(-60.0f, 60.0f);
        double worst = 0.0;
        for (int i = 0; i < 300000; ++i) {
            const float a = mant(rng) * std::exp2(expo(rng)), b = mant(rng) * std::exp2(expo(rng));
            worst = std::max(worst, ulpError(vDiv(a, b), static_cast<double>(a) / b));
        }
        QVERIFY2(worst <= 0.5, qPrintable(QString::number(worst)));
        // Subnormal quotients and operands.
        QCOMPARE(vDiv(1e-40f, 1.0f), 1e-40f);
        QVERIFY(ulpError(vDiv(3e-39f, 7.0f), 3e-39 / 7.0) <= 0.5);
        QVERIFY(ulpError(vDiv(1.0f, 1e-39f), 1.0 / static_cast<double>(1e-39f)) <= 0.5);
    }

    // vSqrt is correctly rounded: the CPU's square root instruction (IEEE 754's) gives its bits, which is
    // what lets cpu/ElementwiseMath.h use that instruction in the verifiable mode. Every significand under
    // an even and an odd exponent (a root depends on nothing else), the highest binade and every subnormal.
    void squareRootIsTheHardwares() {
        std::uint64_t compared = 0;
        const std::pair<std::uint32_t, std::uint32_t> ranges[] = {
            {0x3f800000u, 0x40800000u}, {0x7f000000u, 0x7f800000u}, {0x00000001u, 0x00800000u}};
        for (const auto& [from, to] : ranges)
            for (std::uint32_t b = from; b < to; ++b) {
                const float x = std::bit_cast<float>(b);
                const std::uint32_t want = bitsOf(std::sqrt(x));
                if (bitsOf(vSqrt(x)) != want)
                    QFAIL(qPrintable(QString("vSqrt(%1) = %2, the hardware's %3")
                                         .arg(b, 8, 16, QChar('0'))
                                         .arg(bitsOf(vSqrt(x)), 8, 16, QChar('0'))
                                         .arg(want, 8, 16, QChar('0'))));
                ++compared;
            }
        QCOMPARE(compared, std::uint64_t{(1u << 24) + (1u << 23) + (1u << 23) - 1});
    }

    // vDiv is correctly rounded: the CPU's division gives its bits (NaN aside, which vDiv makes the
    // canonical one). Random bit patterns of every kind, random significands under exponents that put
    // the quotient near the overflow and throughout the subnormal range, and exact ties there (ties to even).
    void divisionIsTheHardwares() {
        const auto expect = [](float a, float b) {
            const float q = a / b;
            return std::isnan(q) ? 0x7fc00000u : bitsOf(q);
        };
        std::mt19937 rng(12);
        std::uniform_int_distribution<std::uint32_t> anyBits;
        std::uniform_int_distribution<std::uint32_t> significand(0, 0x007fffffu);
        std::uniform_int_distribution<int> exponent(-40, 40);
        int mismatches = 0;
        QString first;
        const auto compare = [&](float a, float b) {
            if (bitsOf(vDiv(a, b)) == expect(a, b)) return;
            if (mismatches++ == 0)
                first = QString("vDiv(%1, %2) = %3, the hardware's %4")
                            .arg(bitsOf(a), 8, 16, QChar('0'))
                            .arg(bitsOf(b), 8, 16, QChar('0'))
                            .arg(bitsOf(vDiv(a, b)), 8, 16, QChar('0'))
                            .arg(expect(a, b), 8, 16, QChar('0'));
        };
        for (int i = 0; i < 2000000; ++i)
            compare(std::bit_cast<float>(anyBits(rng)), std::bit_cast<float>(anyBits(rng)));
        // Quotients near 2^-126 (normal above, subnormal below, zero far below) and near the overflow.
        std::uniform_int_distribution<int> low(0, 70), high(185, 254);
        for (int i = 0; i < 2000000; ++i) {
            // Biased exponents: the quotient's is about ea - eb + 127, within 20 of the boundary's.
            const int d = exponent(rng) / 2;
            const int ea = i % 2 ? low(rng) : high(rng);
            const int eb = i % 2 ? ea + 126 - d : ea - 127 - d;
            const auto make = [&](int biased) {
                return std::bit_cast<float>((static_cast<std::uint32_t>(std::clamp(biased, 0, 254)) << 23) |
                                            significand(rng) | (anyBits(rng) & 0x80000000u));
            };
            compare(make(ea), make(eb));
        }
        // Exact ties in the subnormal range: k 2^-149 / 2 is halfway between two subnormals when k is odd.
        for (std::uint32_t k = 1; k < 200000; ++k)
            for (float b : {2.0f, -2.0f, 4.0f, 8.0f, 3.0f}) compare(std::bit_cast<float>(k), b);
        QVERIFY2(mismatches == 0, qPrintable(QString("%1 mismatches; first: %2").arg(mismatches).arg(first)));
    }

    void specialValues() {
        const float inf = INFINITY, nan = NAN;
        QVERIFY(std::isnan(vExp(nan)) && vExp(inf) == inf && vExp(-inf) == 0.0f && vExp(0.0f) == 1.0f);
        QCOMPARE(vExp(-87.0f), 0.0f);  // below 2^-124: flushed by definition
        QVERIFY(std::isinf(vLog(0.0f)) && vLog(0.0f) < 0 && std::isinf(vLog(-0.0f)) && vLog(-0.0f) < 0);
        QVERIFY(std::isnan(vLog(-1.0f)) && vLog(inf) == inf && vLog(1.0f) == 0.0f);
        QVERIFY(std::signbit(vSqrt(-0.0f)) && std::isnan(vSqrt(-1.0f)) && vSqrt(inf) == inf && vSqrt(4.0f) == 2.0f);
        QVERIFY(vDiv(1.0f, 0.0f) == inf && vDiv(-1.0f, 0.0f) == -inf && vDiv(1.0f, -0.0f) == -inf);
        QVERIFY(std::isnan(vDiv(0.0f, 0.0f)) && std::isnan(vDiv(inf, inf)) && std::isnan(vDiv(nan, 1.0f)));
        QCOMPARE(bitsOf(vDiv(-nan, 1.0f)), 0x7fc00000u);  // the canonical NaN, whatever the operand's
        QCOMPARE(bitsOf(vSqrt(-1.0f)), 0x7fc00000u);
        QVERIFY(vDiv(3.4e38f, 0.5f) == inf && vDiv(-3.4e38f, 0.5f) == -inf && vDiv(1e-30f, 1e30f) == 0.0f);
        QVERIFY(vDiv(-1.0f, inf) == 0.0f && std::signbit(vDiv(-1.0f, inf)) && vDiv(inf, -2.0f) == -inf);
        QVERIFY(std::signbit(vTanh(-0.0f)) && vTanh(20.0f) == 1.0f && vTanh(-20.0f) == -1.0f && std::isnan(vTanh(nan)));
        QVERIFY(vSigmoid(-200.0f) == 0.0f && vSigmoid(200.0f) == 1.0f && vSigmoid(0.0f) == 0.5f);
        QVERIFY(vErf(10.0f) == 1.0f && vErf(-10.0f) == -1.0f && std::signbit(vErf(-0.0f)));
        QCOMPARE(vPow(-2.0f, 3.0f), -8.0f);
        QVERIFY(std::isnan(vPow(-2.0f, 0.5f)) && vPow(0.0f, -1.0f) == inf && vPow(nan, 0.0f) == 1.0f);
        QVERIFY(ulpError(vPow(2.0f, 10.0f), 1024.0) <= 2.0);
    }

    // B packed once and shared by row blocks (CpuMatmul's verifiable path) gives the bits of one whole
    // sgemmFixedOrder call: shapes across the panel boundaries (64 columns, 16 per tile), both layouts
    // of A and B, beta 0 and 1, row blocks of 4 and of 3 (a block that splits a tile of 4 rows).
    void packedBMatchesTheWholeProduct() {
        std::mt19937 rng(21);
        std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
        for (const int64_t n : {1, 16, 53, 64, 65, 130, 200})
            for (const bool transA : {false, true})
                for (const bool transB : {false, true})
                    for (const float beta : {0.0f, 1.0f}) {
                        const int64_t m = 23, k = 67;
                        std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)),
                            c(static_cast<size_t>(m * n));
                        for (float& x : a) x = dist(rng);
                        for (float& x : b) x = dist(rng);
                        for (float& x : c) x = dist(rng);
                        const int64_t lda = transA ? m : k, ldb = transB ? k : n;
                        std::vector<float> whole = c;
                        raven::cpu::kernels::sgemmFixedOrder(m, n, k, a.data(), lda, transA, b.data(), ldb, transB,
                                                             beta, whole.data(), n);
                        const int64_t panels = raven::cpu::kernels::fixedOrderPanels(n);
                        std::vector<float> packed(static_cast<size_t>(raven::cpu::kernels::fixedOrderPackedBSize(n, k)),
                                                  NAN);
                        for (int64_t panel = 0; panel < panels; ++panel)  // one panel per call, as the threads do
                            raven::cpu::kernels::packBFixedOrder(n, k, b.data(), ldb, transB, panel, panel + 1,
                                                                 packed.data());
                        for (const int64_t rowsPer : {int64_t{4}, int64_t{3}, m}) {
                            std::vector<float> blocked = c;
                            for (int64_t r0 = 0; r0 < m; r0 += rowsPer) {
                                const int64_t rows = std::min(rowsPer, m - r0);
                                const float* aBlock = a.data() + r0 * (transA ? 1 : lda);
                                raven::cpu::kernels::sgemmFixedOrderPackedB(
                                    rows, n, k, aBlock, lda, transA, packed.data(), beta, blocked.data() + r0 * n, n);
                            }
                            QVERIFY2(std::memcmp(blocked.data(), whole.data(), whole.size() * sizeof(float)) == 0,
                                     qPrintable(QString("n %1, transA %2, transB %3, beta %4, rows per block %5")
                                                    .arg(n)
                                                    .arg(transA)
                                                    .arg(transB)
                                                    .arg(beta)
                                                    .arg(rowsPer)));
                        }
                    }
    }

    // Golden fingerprints of every function on a fixed grid. They change only when a function's
    // arithmetic changes; then the GLSL twin must change alike, and the device gate's golden values with it.
    void goldenBits() {
        const std::uint64_t got[] = {fingerprint(vExp, -90.0f, 0.0179f, 10000),
                                     fingerprint(vLog, 1e-3f, 0.731f, 10000),
                                     fingerprint(vTanh, -10.0f, 0.002f, 10000),
                                     fingerprint(vSigmoid, -30.0f, 0.006f, 10000),
                                     fingerprint(vErf, -5.0f, 0.001f, 10000),
                                     fingerprint(vSqrt, 0.0f, 0.37f, 10000),
                                     fingerprint([](float x) { return vDiv(1.0f, x); }, -50.0f, 0.01f, 10000),
                                     fingerprint([](float x) { return vPow(x, 1.7f); }, 0.0f, 0.01f, 10000),
                                     gemmFingerprint()};
        QString all;
        for (std::uint64_t h : got) all += QString::number(h, 16) + " ";
        qInfo("fingerprints: %s", qPrintable(all));
        QCOMPARE(all.trimmed(), QString(kGolden));
    }

    void glslTwinReadsLineByLineAlike() {
        const std::string root = qEnvironmentVariable("RAVEN_SOURCE_DIR", RAVEN_SOURCE_DIR_FALLBACK).toStdString();
        const auto cpp = normalizedLines(root + "/core/cpu/kernels/VerifiableMath.h", "namespace raven::verifiable {",
                                         "}  // namespace raven::verifiable");
        const auto glsl = normalizedLines(root + "/compute-shaders/include/verifiable_math.glsl",
                                          "#define RAVEN_VERIFIABLE_MATH_GLSL", "#endif");
        QVERIFY2(cpp.size() > 100, "VerifiableMath.h not found or empty");
        for (size_t i = 0; i < std::min(cpp.size(), glsl.size()); ++i)
            QVERIFY2(cpp[i] == glsl[i], qPrintable(QString("line %1 differs:\n  C++:  %2\n  GLSL: %3")
                                                       .arg(i)
                                                       .arg(cpp[i].c_str())
                                                       .arg(glsl[i].c_str())));
        QCOMPARE(glsl.size(), cpp.size());
    }

private:
    static constexpr const char* kGolden =
        "1021d353562f72da 50d39dd4bfcc9cf3 76916c42875748fb ce5728d44419de1 91821cff3b76ee98 a6bed77f9872ac77 "
        "d19aa4f34aa58d35 805fef4c8bf78149 bc10b7df798796e0";
};

QTEST_APPLESS_MAIN(VerifiableMathTest)
#include "tst_verifiable_math.moc"
