// The Vulkan backend's verifiable kernel mode (KernelMode.h, docs/verification.md) on lavapipe against
// the CPU backend's verifiable kernels: bit for bit, not within a tolerance.
//  - every row of the op table (tests/common/OpCases.h) that has a verifiable kernel either runs on
//    Vulkan with the CPU's exact bits, or is refused with an error that names the kernel (no verifiable
//    shader yet); the rows that run are counted, and those of the kernels with a shader (products,
//    elementwise, reductions, softmax family, cross-entropy, convolution, max and average pooling,
//    Adam) must all run;
//  - the convolution's bias gradient (double lanes rounded to float by integer operations) at the
//    edges of float: ties, subnormal sums, overflow, infinities and NaN; the convolution over inputs
//    holding them; examples/cnn.json's convolutions at batch 128; on lavapipe, a pass longer than its
//    loop limit refused by name;
//  - the MLP's own products (batch 128, 784-256-128-10, transposed weights, bias) bit for bit;
//  - Adam and AdamW, first step and later, bit for bit;
//  - the fast mode is untouched by a verifiable call in between.
// Every test ends with zero validation messages.
#include "../vulkan/VulkanTestSupport.h"
#include "BackendComparison.h"
#include "common/OpCases.h"

#include "base/Error.h"
#include "tensor/TensorOps.h"
#include "vulkan/backend/VulkanBackend.h"

#include <QTest>

#include <cmath>
#include <cstring>
#include <limits>

using namespace raven;

namespace {

// Sets a backend's kernel mode for a scope.
class ModeScope {
public:
    ModeScope(Backend& backend, KernelMode mode) : backend_(backend), before_(backend.kernelMode()) {
        backend_.setKernelMode(mode);
    }
    ~ModeScope() { backend_.setKernelMode(before_); }
    ModeScope(const ModeScope&) = delete;
    ModeScope& operator=(const ModeScope&) = delete;

private:
    Backend& backend_;
    KernelMode before_;
};

bool isRefusal(const raven::Error& e) { return QString(e.what()).contains("has no verifiable kernel for"); }

}  // namespace

class VulkanVerifiableTest : public QObject {
    Q_OBJECT

    std::shared_ptr<vulkan::Instance> instance_;
    std::size_t messagesBefore_ = 0;
    std::unique_ptr<VulkanBackend> gpu_;

private slots:
    void initTestCase() {
        QString skip;
        instance_ = raven::test::openInstance(skip);
        if (!instance_) QSKIP(qPrintable(skip));
        VulkanBackendOptions options;
        options.device.pipelineCacheDir = std::filesystem::path();  // never the user's cache
        gpu_ = std::make_unique<VulkanBackend>(instance_, options);
    }
    void cleanupTestCase() { gpu_.reset(); }
    RAVEN_VULKAN_VALIDATION_CHECKS

    // A kernel without a verifiable shader refuses the mode, naming itself, before it records
    // anything; the backend then still works in the fast mode.
    void unverifiableKernelsRefuseByName() {
        const Tensor x = fromVector({1, 3}, {1.0f, 2.0f, 3.0f}, *gpu_);
        QString message;
        {
            const ModeScope verifiable(*gpu_, KernelMode::Verifiable);
            try {
                (void)gpu_->layerNorm(x, 3, Tensor(), Tensor(), 1e-5f);
            } catch (const raven::Error& e) {
                message = e.what();
            }
        }
        QVERIFY2(message.contains("no verifiable kernel for layerNorm"), qPrintable(message));
        QVERIFY2(message.contains("CPU backend"), qPrintable(message));  // says what to do
        QCOMPARE(gpu_->unary(UnaryOp::Neg, x).toVector(), (std::vector<float>{-1.0f, -2.0f, -3.0f}));
    }

    // Every verifiable row of the op table: bit-identical to the CPU's verifiable kernels, or refused.
    void opTableBitExact_data() {
        QTest::addColumn<int>("row");
        const auto& cases = raven::test::opCases();
        for (size_t i = 0; i < cases.size(); ++i)
            if (cases[i].verifiable) QTest::newRow(cases[i].name.c_str()) << static_cast<int>(i);
    }
    void opTableBitExact() {
        QFETCH(int, row);
        raven::test::OpCase c = raven::test::opCases()[static_cast<size_t>(row)];
        c.tolerance = raven::test::Tolerance::exact();
        const ModeScope gpuMode(*gpu_, KernelMode::Verifiable);
        const ModeScope cpuMode(cpuBackend(), KernelMode::Verifiable);
        try {
            const raven::test::CaseOutcome o = raven::test::compareBackends(c, *gpu_, cpuBackend());
            QVERIFY2(o.passed, o.detail.c_str());
            ++ranRows_;
        } catch (const raven::Error& e) {
            QVERIFY2(isRefusal(e), e.what());
            const QString name = QString::fromStdString(c.name);
            for (const char* family :
                 {"matmul", "unary", "binary", "scalar", "adamUpdate", "sum axes", "max axes", "softmax", "logSoftmax",
                  "crossEntropy", "maxPool2d", "avgPool2d", "conv2d"})  // these have shaders
                QVERIFY2(!name.startsWith(family), e.what());
            ++refusedRows_;
        }
    }
    void opTableCounts() {
        qInfo("verifiable op-table rows bit-exact on %s: %d; refused (no verifiable shader yet): %d",
              gpu_->name().c_str(), ranRows_, refusedRows_);
        // the matmul, elementwise, reduction, softmax, cross-entropy, convolution, pooling and Adam rows
        QVERIFY(ranRows_ >= 184);
    }

    // The MLP's products at its sizes: forward (x W^T + b through a transposed view), and the two
    // backward products (dX = dY W, dW = dY^T X), each bit for bit.
    void mlpProductsBitExact() {
        const auto values = [](int64_t n, unsigned seed) { return raven::test::randomValues(n, seed); };
        const ModeScope gpuMode(*gpu_, KernelMode::Verifiable);
        const ModeScope cpuMode(cpuBackend(), KernelMode::Verifiable);
        const int64_t batch = 128;
        const int64_t sizes[] = {784, 256, 128, 10};
        for (int layer = 0; layer < 3; ++layer) {
            const int64_t in = sizes[layer], out = sizes[layer + 1];
            const auto xv = values(batch * in, 11 + layer), wv = values(out * in, 23 + layer),
                       bv = values(out, 37 + layer), gv = values(batch * out, 41 + layer);
            const auto run = [&](Backend& be) {
                const Tensor x = fromVector({batch, in}, xv, be), w = fromVector({out, in}, wv, be),
                             b = fromVector({out}, bv, be), g = fromVector({batch, out}, gv, be);
                return std::vector<std::vector<float>>{be.matmul(x, w.transpose(0, 1), b).toVector(),
                                                       be.matmul(g, w, Tensor()).toVector(),
                                                       be.matmul(g.transpose(0, 1), x, Tensor()).toVector()};
            };
            const auto got = run(*gpu_), want = run(cpuBackend());
            for (size_t i = 0; i < got.size(); ++i) {
                QCOMPARE(got[i].size(), want[i].size());
                const int64_t at = raven::test::firstBitDifference(got[i], want[i]);
                QVERIFY2(at < 0, qPrintable(QString("layer %1 product %2 differs first at %3").arg(layer).arg(i).arg(at)));
            }
        }
    }

    // The bias gradient sums in double as the CPU's, and rounds to float with integer operations: ties
    // to even (both ways), a sum that cancels to a float subnormal, subnormal terms, a double sum beyond
    // float's range (rounded to infinity, and a sum just below the overflow threshold), infinities and
    // NaN. Eight channels of eight terms each (two samples, 2x2 positions), bit for bit; then the whole
    // convolution (forward, both gradients) over an input holding the same values.
    void convolutionEdgesBitExact() {
        const float tiny = 0x1p-149f, sub = 0x1.8p-130f, big = 0x1.fffffep127f;
        const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
        // channel k's eight terms: sample 0's four positions, then sample 1's.
        const std::vector<std::vector<float>> channels = {
            {1.0f, 0x1p-24f, 0, 0, 0, 0, 0, 0},                       // 1 + 2^-24: a tie, down to even
            {1.0f + 0x1p-23f, 0x1p-24f, 0, 0, 0, 0, 0, 0},            // a tie, up to even
            {0x1p-126f, -0x1.fffffcp-127f, tiny, 0, 0, 0, -0.0f, 0},  // cancels to subnormals
            {sub, sub, -tiny, sub, tiny, tiny, sub, -sub},            // subnormal terms only
            {big, big, -big, -0x1p103f, 0, 0, 0, 0},                  // past FLT_MAX in double, then a tie below it
            {big, 0x1p103f, 0x1p102f, 0, 0, 0, 0, 0},                 // just past half an ulp above FLT_MAX: inf
            {inf, 1.0f, -1.0f, 0, 0, 0, 0, 0},                        // infinity
            {inf, -inf, nan, 1.0f, 0, 0, 0, 0}};                      // NaN
        std::vector<float> dy(2 * 8 * 4);
        for (int k = 0; k < 8; ++k)
            for (int t = 0; t < 8; ++t) dy[static_cast<size_t>(((t / 4) * 8 + k) * 4 + t % 4)] = channels[k][t];
        const ModeScope gpuMode(*gpu_, KernelMode::Verifiable);
        const ModeScope cpuMode(cpuBackend(), KernelMode::Verifiable);
        const Conv2dGeometry g{.padH = 1, .padW = 1};
        const Shape xs{2, 3, 2, 2};
        const auto xv = raven::test::randomValues(2 * 3 * 2 * 2, 13), wv = raven::test::randomValues(8 * 3 * 9, 17);
        const auto backward = [&](Backend& be, const std::vector<float>& x) {
            const LayerGrads r = be.conv2dBackward(fromVector(xs, x, be), fromVector({8, 3, 3, 3}, wv, be),
                                                   fromVector({2, 8, 2, 2}, dy, be), xs, g, {true, true, true});
            return std::vector<std::vector<float>>{r.bias.toVector(), r.input.toVector(), r.weight.toVector()};
        };
        const auto got = backward(*gpu_, xv), want = backward(cpuBackend(), xv);
        for (size_t k = 0; k < 8; ++k) {
            std::uint32_t a = 0, b = 0;
            std::memcpy(&a, &got[0][k], 4);
            std::memcpy(&b, &want[0][k], 4);
            QVERIFY2(raven::test::firstBitDifference({got[0][k]}, {want[0][k]}) < 0,
                     qPrintable(QString("bias gradient of channel %1: 0x%2, the CPU 0x%3")
                                    .arg(k)
                                    .arg(a, 8, 16, QChar('0'))
                                    .arg(b, 8, 16, QChar('0'))));
        }
        QCOMPARE(std::isinf(want[0][5]), true);  // the case tests what it says
        for (size_t i = 1; i < got.size(); ++i) QVERIFY2(raven::test::firstBitDifference(got[i], want[i]) < 0, "");

        // The input itself holding the edge values: forward and both gradients through them.
        std::vector<float> edgy = xv;
        for (size_t i = 0; i < edgy.size(); ++i) edgy[i] = channels[i % 8][i / 8 % 8];
        const auto forward = [&](Backend& be) {
            return be
                .conv2d(fromVector(xs, edgy, be), fromVector({8, 3, 3, 3}, wv, be),
                        fromVector({8}, raven::test::randomValues(8, 19), be), g)
                .toVector();
        };
        QVERIFY(raven::test::firstBitDifference(forward(*gpu_), forward(cpuBackend())) < 0);
        const auto gotEdgy = backward(*gpu_, edgy), wantEdgy = backward(cpuBackend(), edgy);
        for (size_t i = 0; i < gotEdgy.size(); ++i)
            QVERIFY2(raven::test::firstBitDifference(gotEdgy[i], wantEdgy[i]) < 0, qPrintable(QString::number(i)));
    }

    // examples/cnn.json's two convolutions (3x3, padding 1: 1 -> 32 channels on 28x28, 32 -> 64 on
    // 14x14) at the unit's batch of 128: the weight gradient sums 16 chunks of 8 samples, the first
    // layer's bias gradient 100,352 terms per channel in four windows (lavapipe's loop limit, see
    // VerifiableConv2d.h); forward, input, weight and bias gradients bit for bit.
    void cnnConvolutionsBitExact() {
        const ModeScope gpuMode(*gpu_, KernelMode::Verifiable);
        const ModeScope cpuMode(cpuBackend(), KernelMode::Verifiable);
        const Conv2dGeometry g{.padH = 1, .padW = 1};
        const int64_t batch = 128;
        const struct { int64_t in, out, side; } layers[] = {{1, 32, 28}, {32, 64, 14}};
        for (const auto& l : layers) {
            const Shape xs{batch, l.in, l.side, l.side}, ws{l.out, l.in, 3, 3};
            const auto xv = raven::test::randomValues(numelOf(xs), 5), wv = raven::test::randomValues(numelOf(ws), 7),
                       bv = raven::test::randomValues(l.out, 9),
                       gv = raven::test::randomValues(batch * l.out * l.side * l.side, 11);
            const auto run = [&](Backend& be) {
                const Tensor x = fromVector(xs, xv, be), w = fromVector(ws, wv, be);
                const LayerGrads r = be.conv2dBackward(x, w, fromVector({batch, l.out, l.side, l.side}, gv, be), xs, g,
                                                       {l.in > 1, true, true});
                std::vector<std::vector<float>> out{be.conv2d(x, w, fromVector({l.out}, bv, be), g).toVector(),
                                                    r.weight.toVector(), r.bias.toVector()};
                if (l.in > 1) out.push_back(r.input.toVector());
                return out;
            };
            const auto got = run(*gpu_), want = run(cpuBackend());
            for (size_t i = 0; i < got.size(); ++i)
                QVERIFY2(raven::test::firstBitDifference(got[i], want[i]) < 0,
                         qPrintable(QString("%1 -> %2 channels: output %3 differs").arg(l.in).arg(l.out).arg(i)));
        }
    }

    // lavapipe ends an invocation's loops after 65535 iterations without an error: a verifiable pass that
    // would loop longer is refused there with a clear error before anything is recorded, never
    // computed short (here a 1x1 convolution's weight gradient over 256 x 257 positions), and the
    // backend goes on.
    void lavapipeLoopLimitRefused() {
        if (gpu_->device().info().driverName != "llvmpipe") QSKIP("not lavapipe: no loop limit to refuse");
        const ModeScope gpuMode(*gpu_, KernelMode::Verifiable);
        const Shape xs{1, 1, 256, 257};
        const Tensor x = fromVector(xs, raven::test::randomValues(256 * 257, 3), *gpu_);
        const Tensor w = fromVector({1, 1, 1, 1}, {0.5f}, *gpu_);
        QString message;
        try {
            (void)gpu_->conv2dBackward(x, w, x, xs, Conv2dGeometry{}, {false, true, false});
        } catch (const raven::Error& e) {
            message = e.what();
        }
        QVERIFY2(message.contains("65535") && message.contains("CPU backend"), qPrintable(message));
        // The input gradient of the same shape loops once per output channel: computed.
        const LayerGrads r = gpu_->conv2dBackward(x, w, x, xs, Conv2dGeometry{}, {true, false, false});
        QCOMPARE(r.input.toVector()[5], 0.5f * raven::test::randomValues(256 * 257, 3)[5]);
    }

    // A target that is not a class index, in the verifiable cross-entropy and its backward: reported at
    // the next sync point naming the first bad sample (as the fast shader does), and the backend goes on.
    void verifiableBadTargetIsReported() {
        const ModeScope gpuMode(*gpu_, KernelMode::Verifiable);
        const Tensor x = fromVector({3, 4}, raven::test::randomValues(12, 1), *gpu_);
        const Tensor t = fromVector({3}, {1.0f, 4.0f, 2.5f}, *gpu_);
        const Tensor g = fromVector({3}, {1.0f, 1.0f, 1.0f}, *gpu_);
        for (const bool backward : {false, true}) {
            const Tensor out = backward ? gpu_->crossEntropyBackward(x, t, g, 0.1f) : gpu_->crossEntropy(x, t, 0.0f);
            try {
                gpu_->synchronize();
                QFAIL("a target outside [0, 4) was not reported");
            } catch (const raven::Error& e) {
                QVERIFY2(e.message().find("sample 1") != std::string::npos, e.message().c_str());
                QVERIFY2(e.message().find("verifiable") != std::string::npos, e.message().c_str());
            }
        }
        QCOMPARE(gpu_->softmax(fromVector({1, 2}, {0.0f, 0.0f}, *gpu_)).toVector(), (std::vector<float>{0.5f, 0.5f}));
    }

    // Adam and AdamW (weight decay into the gradient, decay of the parameter), first step and later,
    // bit for bit: the cases the CPU's verifiable pass compiles separately.
    void adamCasesBitExact() {
        const ModeScope gpuMode(*gpu_, KernelMode::Verifiable);
        const ModeScope cpuMode(cpuBackend(), KernelMode::Verifiable);
        const int64_t n = 1031;
        const auto p = raven::test::randomValues(n, 3), g = raven::test::randomValues(n, 5),
                   m = raven::test::randomValues(n, 7), v = raven::test::randomValues(n, 9, 0.0f, 0.01f);
        for (const float weightDecay : {0.0f, 0.01f})
            for (const float decayFactor : {1.0f, 0.999f})
                for (const bool first : {true, false}) {
                    AdamStepScalars s;
                    s.invSqrtCorrection2 = 1.3f;
                    s.weightDecay = weightDecay;
                    s.decayFactor = decayFactor;
                    const auto run = [&](Backend& be) {
                        const Tensor tm = first ? Tensor() : fromVector({n}, m, be);
                        const Tensor tv = first ? Tensor() : fromVector({n}, v, be);
                        const AdamUpdate u = be.adamUpdate(fromVector({n}, p, be), fromVector({n}, g, be), tm, tv, s);
                        return std::vector<std::vector<float>>{u.param.toVector(), u.expAvg.toVector(),
                                                               u.expAvgSq.toVector()};
                    };
                    const auto got = run(*gpu_), want = run(cpuBackend());
                    for (size_t i = 0; i < got.size(); ++i)
                        QVERIFY2(raven::test::firstBitDifference(got[i], want[i]) < 0,
                                 qPrintable(QString("decay %1, factor %2, first %3: output %4 differs")
                                                .arg(weightDecay).arg(decayFactor).arg(first).arg(i)));
                }
    }

private:
    int ranRows_ = 0;
    int refusedRows_ = 0;
};

QTEST_GUILESS_MAIN(VulkanVerifiableTest)
#include "VulkanVerifiableTest.moc"
