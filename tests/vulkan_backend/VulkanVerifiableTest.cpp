// The Vulkan backend's verifiable kernel mode (KernelMode.h, docs/verification.md) on lavapipe against
// the CPU backend's verifiable kernels: bit for bit, not within a tolerance.
//  - every row of the op table (tests/common/OpCases.h) that has a verifiable kernel either runs on
//    Vulkan with the CPU's exact bits, or is refused with an error that names the kernel (no verifiable
//    shader yet); the rows that run are counted, and those of the kernels with a shader (products,
//    elementwise, reductions, softmax family, cross-entropy, max pooling, Adam) must all run;
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

#include <cstring>

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
            for (const char* family : {"matmul", "unary", "binary", "scalar", "adamUpdate", "sum axes", "max axes",
                                       "softmax", "logSoftmax", "crossEntropy", "maxPool2d"})  // these have shaders
                QVERIFY2(!name.startsWith(family), e.what());
            ++refusedRows_;
        }
    }
    void opTableCounts() {
        qInfo("verifiable op-table rows bit-exact on %s: %d; refused (no verifiable shader yet): %d",
              gpu_->name().c_str(), ranRows_, refusedRows_);
        QVERIFY(ranRows_ >= 170);  // the matmul, elementwise, reduction, softmax, cross-entropy, max-pool and Adam rows
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
