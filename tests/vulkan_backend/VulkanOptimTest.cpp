// The fused optimizer updates (Backend::adamUpdate, sgdUpdate) on Vulkan against the CPU on lavapipe:
// the Vulkan kernel against the composed elementwise kernels on the CPU (Backend's default) and against
// the CPU's fused Adam pass, for Adam, Adam with L2, AdamW, SGD with momentum, dampening, Nesterov and
// weight decay, first and later steps, awkward sizes and strided operands; one dispatch per update; the
// Vulkan kernel against the composed kernels on the same device; and the per-dispatch timestamps
// (profiling) naming each kernel with its work. Every test ends with zero validation messages.
// (torch.optim itself is the reference of tests/nn/tst_Optimizers.cpp, which runs the same updates.)
#include "../vulkan/VulkanTestSupport.h"
#include "BackendComparison.h"

#include "cpu/CpuBackend.h"
#include "tensor/TensorOps.h"
#include "vulkan/backend/VulkanBackend.h"

#include <QTest>

using namespace raven;
using raven::test::normalizedMse;
using raven::test::randomValues;

namespace {

// The fused kernel does the composed kernels' float operations in their order; sqrt and division may
// differ in the last bit between the host and a device.
constexpr double kTolerance = 1e-12;

AdamStepScalars adamScalars(int kind, double t) {
    AdamStepScalars s;
    const double lr = 1e-2, beta1 = 0.9, beta2 = 0.999;
    s.beta1 = static_cast<float>(beta1);
    s.beta2 = static_cast<float>(beta2);
    s.oneMinusBeta1 = static_cast<float>(1.0 - beta1);
    s.oneMinusBeta2 = static_cast<float>(1.0 - beta2);
    s.invSqrtCorrection2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(beta2, t)));
    s.stepSize = static_cast<float>(lr / (1.0 - std::pow(beta1, t)));
    s.eps = 1e-8f;
    if (kind == 1) s.weightDecay = 0.05f;                               // Adam with L2
    if (kind == 2) s.decayFactor = static_cast<float>(1.0 - lr * 0.1);  // AdamW
    return s;
}

}  // namespace

class VulkanOptimTest : public QObject {
    Q_OBJECT

    std::shared_ptr<vulkan::Instance> instance_;
    std::size_t messagesBefore_ = 0;
    std::unique_ptr<VulkanBackend> gpu_;

    std::pair<Tensor, Tensor> both(const Shape& shape, unsigned seed, float low = -2.0f, float high = 2.0f) {
        const auto v = randomValues(numelOf(shape), seed, low, high);
        return {fromVector(shape, v, cpuBackend()), fromVector(shape, v, *gpu_)};
    }

    void compare(const Tensor& onGpu, const Tensor& onCpu, const char* what) {
        QVERIFY2(onGpu.defined() && onCpu.defined(), what);
        QCOMPARE(onGpu.shape(), onCpu.shape());
        const double e = normalizedMse(onGpu.toVector(), onCpu.toVector());
        QVERIFY2(e <= kTolerance, qPrintable(QString("%1: normalized MSE %2").arg(what).arg(e)));
    }

private slots:
    void initTestCase() {
        QString skip;
        instance_ = raven::test::openInstance(skip);
        if (!instance_) QSKIP(qPrintable(skip));
        VulkanBackendOptions options;
        options.device.pipelineCacheDir = std::filesystem::path();
        gpu_ = std::make_unique<VulkanBackend>(instance_, options);
    }
    void cleanupTestCase() { gpu_.reset(); }
    RAVEN_VULKAN_VALIDATION_CHECKS

    void adamMatchesCpu_data() {
        QTest::addColumn<int>("kind");  // 0 Adam, 1 Adam + L2, 2 AdamW
        QTest::addColumn<bool>("firstStep");
        QTest::addColumn<Shape>("shape");
        QTest::addColumn<bool>("transposedGrad");
        const char* kinds[] = {"adam", "adam-l2", "adamw"};
        for (int kind = 0; kind < 3; ++kind)
            for (bool first : {true, false}) {
                const QByteArray base = QByteArray(kinds[kind]) + (first ? " first" : " later");
                QTest::newRow(base + " [1]") << kind << first << Shape{1} << false;
                QTest::newRow(base + " [1031]") << kind << first << Shape{1031} << false;
                QTest::newRow(base + " [37,5] grad^T") << kind << first << Shape{37, 5} << true;
            }
    }
    void adamMatchesCpu() {
        QFETCH(int, kind);
        QFETCH(bool, firstStep);
        QFETCH(Shape, shape);
        QFETCH(bool, transposedGrad);
        auto [cp, gp] = both(shape, 11);
        Shape gradShape = shape;
        if (transposedGrad) std::swap(gradShape[0], gradShape[1]);
        auto [cg, gg] = both(gradShape, 12);
        if (transposedGrad) {
            cg = cg.transpose(0, 1);
            gg = gg.transpose(0, 1);
        }
        auto [cm, gm] = both(shape, 13, -0.5f, 0.5f);
        auto [cv, gv] = both(shape, 14, 0.0f, 0.5f);
        if (firstStep) cm = cv = gm = gv = Tensor();
        const AdamStepScalars s = adamScalars(kind, firstStep ? 1.0 : 7.0);

        Backend& cpu = cpuBackend();
        const AdamUpdate composed = cpu.Backend::adamUpdate(cp, cg, cm, cv, s);
        const AdamUpdate fused = gpu_->adamUpdate(gp, gg, gm, gv, s);
        compare(fused.param, composed.param, "param");
        compare(fused.expAvg, composed.expAvg, "exp_avg");
        compare(fused.expAvgSq, composed.expAvgSq, "exp_avg_sq");

        // The CPU's own fused pass (same constants) agrees too.
        AdamConstants k;
        k.beta1 = s.beta1;
        k.oneMinusBeta1 = s.oneMinusBeta1;
        k.beta2 = s.beta2;
        k.oneMinusBeta2 = s.oneMinusBeta2;
        k.invSqrtCorrection2 = s.invSqrtCorrection2;
        k.eps = s.eps;
        k.stepSize = s.stepSize;
        k.weightDecay = s.weightDecay;
        k.decayFactor = s.decayFactor;
        const AdamStepResult cpuFused = dynamic_cast<CpuBackend&>(cpu).adamStep(cp, cg, cm, cv, k);
        compare(fused.param, cpuFused.param, "param vs the CPU's fused step");

        // And the composed kernels on the same device.
        const AdamUpdate onDevice = gpu_->Backend::adamUpdate(gp, gg, gm, gv, s);
        compare(fused.param, onDevice.param, "param vs composed on the device");
        compare(fused.expAvgSq, onDevice.expAvgSq, "exp_avg_sq vs composed on the device");
    }

    void sgdMatchesCpu_data() {
        QTest::addColumn<float>("momentum");
        QTest::addColumn<float>("dampening");
        QTest::addColumn<bool>("nesterov");
        QTest::addColumn<float>("weightDecay");
        QTest::addColumn<bool>("firstStep");
        QTest::addColumn<Shape>("shape");
        for (bool first : {true, false}) {
            const QByteArray when = first ? " first" : " later";
            QTest::newRow("plain" + when) << 0.0f << 0.0f << false << 0.0f << first << Shape{1031};
            QTest::newRow("weight decay" + when) << 0.0f << 0.0f << false << 0.01f << first << Shape{1};
            QTest::newRow("momentum" + when) << 0.9f << 0.0f << false << 0.0f << first << Shape{33, 7};
            QTest::newRow("momentum dampening decay" + when) << 0.9f << 0.25f << false << 0.01f << first << Shape{257};
            QTest::newRow("nesterov decay" + when) << 0.8f << 0.0f << true << 0.001f << first << Shape{3, 5, 7};
        }
    }
    void sgdMatchesCpu() {
        QFETCH(float, momentum);
        QFETCH(float, dampening);
        QFETCH(bool, nesterov);
        QFETCH(float, weightDecay);
        QFETCH(bool, firstStep);
        QFETCH(Shape, shape);
        auto [cp, gp] = both(shape, 21);
        auto [cg, gg] = both(shape, 22);
        auto [cb, gb] = both(shape, 23);
        if (firstStep) cb = gb = Tensor();
        SgdStepScalars s;
        s.lr = 0.05f;
        s.momentum = momentum;
        s.oneMinusDampening = 1.0f - dampening;
        s.nesterov = nesterov;
        s.weightDecay = weightDecay;
        const SgdUpdate composed = cpuBackend().Backend::sgdUpdate(cp, cg, cb, s);
        const SgdUpdate fused = gpu_->sgdUpdate(gp, gg, gb, s);
        compare(fused.param, composed.param, "param");
        QCOMPARE(fused.momentumBuffer.defined(), momentum != 0.0f);
        QCOMPARE(composed.momentumBuffer.defined(), momentum != 0.0f);
        if (momentum != 0.0f) compare(fused.momentumBuffer, composed.momentumBuffer, "momentum_buffer");
    }

    void oneDispatchPerUpdate() {
        auto [cp, gp] = both({4096}, 31);
        auto [cg, gg] = both({4096}, 32);
        gpu_->synchronize();
        const std::size_t before = gpu_->stats().dispatchCalls;
        const AdamUpdate a = gpu_->adamUpdate(gp, gg, Tensor(), Tensor(), adamScalars(0, 1.0));
        QCOMPARE(gpu_->stats().dispatchCalls, before + 1);
        SgdStepScalars s;
        s.momentum = 0.9f;
        const SgdUpdate b = gpu_->sgdUpdate(gp, gg, a.expAvg, s);
        QCOMPARE(gpu_->stats().dispatchCalls, before + 2);
        gpu_->synchronize();
    }

    void profilingNamesEachKernel() {
        gpu_->synchronize();
        QVERIFY2(gpu_->setProfiling(true), "lavapipe has timestamps on its compute queue");
        gpu_->resetProfile();
        auto [ca, ga] = both({64, 48}, 41);
        auto [cb, gb] = both({48, 40}, 42);
        const Tensor product = gpu_->matmul(ga, gb, Tensor());
        const Tensor sum = gpu_->binary(BinaryOp::Add, product, product);
        const AdamUpdate u = gpu_->adamUpdate(sum, product, Tensor(), Tensor(), adamScalars(0, 1.0));
        gpu_->synchronize();
        QVERIFY(gpu_->setProfiling(false));
        const auto& profile = gpu_->profile();
        const auto find = [&](const std::string& kind) {
            return std::find_if(profile.begin(), profile.end(), [&](const auto& p) { return p.kind == kind; });
        };
        for (const char* kind : {"matmul", "add", "adam_update"}) {
            const auto it = find(kind);
            QVERIFY2(it != profile.end(), kind);
            QCOMPARE(it->dispatches, std::size_t{1});
            QVERIFY2(it->seconds > 0 && it->bytes > 0, kind);
        }
        QCOMPARE(find("matmul")->flops, 2.0 * 64 * 48 * 40);
        QCOMPARE(find("adam_update")->bytes, 4.0 * 64 * 40 * 5);
        QVERIFY(gpu_->profileTable().find("adam_update") != std::string::npos);
        // Off again: nothing more is timed.
        const Tensor more = gpu_->binary(BinaryOp::Add, sum, sum);
        gpu_->synchronize();
        QCOMPARE(find("add")->dispatches, std::size_t{1});
    }
};

QTEST_GUILESS_MAIN(VulkanOptimTest)
#include "VulkanOptimTest.moc"
