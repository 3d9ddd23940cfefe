// Command buffers reused across training steps (core/vulkan/Recorder.h), on lavapipe: an MLP trained
// with Adam (whose bias corrections change every step) and with SGD and momentum, one submission per
// step, a new batch uploaded every step. Once the steps repeat, a step records no new command buffer
// and resubmits one recorded before; the losses and parameters equal, bit for bit, those of a backend
// that records every step afresh; a step of another shape is recorded anew and reuse then resumes.
// Every test ends with zero validation messages.
#include "../vulkan/VulkanTestSupport.h"
#include "BackendComparison.h"

#include "autograd/Ops.h"
#include "autograd/Variable.h"
#include "nn/Optimizer.h"
#include "tensor/Random.h"
#include "tensor/TensorOps.h"
#include "vulkan/backend/VulkanBackend.h"

#include <QTest>

#include <cstring>

using namespace raven;
using raven::test::randomValues;

namespace {

struct Trace {
    std::vector<float> losses;
    std::vector<std::vector<float>> params;  // after the last step
    std::vector<std::size_t> recorded;       // commandBuffersRecorded after each step
    std::vector<std::size_t> reused;         // commandBuffersReused after each step
    std::vector<std::size_t> submits;        // submissions after each step
};

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

class VulkanReuseTest : public QObject {
    Q_OBJECT

    std::shared_ptr<vulkan::Instance> instance_;
    std::size_t messagesBefore_ = 0;

    std::unique_ptr<VulkanBackend> open(bool reuse) {
        VulkanBackendOptions options;
        options.device.pipelineCacheDir = std::filesystem::path();  // never the user's cache
        options.device.reuseCommandBuffers = reuse;
        return std::make_unique<VulkanBackend>(instance_, options);
    }

    // Linear(20 -> 32), ReLU, Linear(32 -> 6), cross-entropy with smoothing; `batches[i]` is the batch
    // size of step i; the data differ every step.
    Trace train(VulkanBackend& backend, nn::OptimizerKind kind, const std::vector<int64_t>& batches) {
        Generator gen(7);
        std::vector<Tensor> values{
            uniform({32, 20}, -0.3f, 0.3f, gen, backend), uniform({32}, -0.1f, 0.1f, gen, backend),
            uniform({6, 32}, -0.3f, 0.3f, gen, backend), uniform({6}, -0.1f, 0.1f, gen, backend)};
        nn::OptimizerConfig config = nn::OptimizerConfig::defaults(kind);
        config.lr = 0.01;
        if (kind == nn::OptimizerKind::Sgd) config.momentum = 0.9;
        auto optimizer = nn::makeOptimizer(config, {"w1", "b1", "w2", "b2"});
        backend.synchronize();
        Trace trace;
        for (std::size_t step = 0; step < batches.size(); ++step) {
            const int64_t n = batches[step];
            const Tensor x = fromVector({n, 20}, randomValues(n * 20, 100 + static_cast<unsigned>(step)), backend);
            std::vector<float> labels(static_cast<std::size_t>(n));
            for (int64_t i = 0; i < n; ++i) labels[static_cast<std::size_t>(i)] = static_cast<float>((i + step) % 6);
            const Tensor y = fromVector({n}, labels, backend);
            std::vector<Variable> params;
            for (const Tensor& v : values) params.emplace_back(v, true);
            const Variable hidden = relu(linear(Variable(x), params[0], params[1]));
            const Variable loss = raven::crossEntropy(linear(hidden, params[2], params[3]), y, 0.1f);
            loss.backward();
            std::vector<Tensor> grads;
            for (const Variable& p : params) grads.push_back(p.grad());
            optimizer->step(values, grads);
            trace.losses.push_back(loss.tensor().item());  // the step's one sync point
            trace.recorded.push_back(backend.stats().commandBuffersRecorded);
            trace.reused.push_back(backend.stats().commandBuffersReused);
            trace.submits.push_back(backend.stats().submits);
        }
        for (const Tensor& v : values) trace.params.push_back(v.toVector());
        return trace;
    }

private slots:
    void initTestCase() {
        QString skip;
        instance_ = raven::test::openInstance(skip);
        if (!instance_) QSKIP(qPrintable(skip));
    }
    RAVEN_VULKAN_VALIDATION_CHECKS

    void repeatedStepsRecordNothingNew_data() {
        QTest::addColumn<int>("kind");
        QTest::addRow("adam") << static_cast<int>(nn::OptimizerKind::Adam);
        QTest::addRow("sgd momentum") << static_cast<int>(nn::OptimizerKind::Sgd);
    }
    void repeatedStepsRecordNothingNew() {
        QFETCH(int, kind);
        const std::vector<int64_t> batches(8, 9);
        auto reusing = open(true), fresh = open(false);
        const Trace r = train(*reusing, static_cast<nn::OptimizerKind>(kind), batches);
        const Trace f = train(*fresh, static_cast<nn::OptimizerKind>(kind), batches);

        // One submission per step, and from the fourth step on nothing is recorded: each step
        // resubmits a command buffer recorded by an earlier one.
        for (std::size_t s = 1; s < batches.size(); ++s) QCOMPARE(r.submits[s] - r.submits[s - 1], std::size_t(1));
        for (std::size_t s = 3; s < batches.size(); ++s) {
            QVERIFY2(r.recorded[s] == r.recorded[2],
                     qPrintable(QString("step %1 recorded a command buffer (%2 recorded after step 3, %3 now)")
                                    .arg(s + 1)
                                    .arg(r.recorded[2])
                                    .arg(r.recorded[s])));
            QCOMPARE(r.reused[s], r.reused[s - 1] + 1);
        }
        QCOMPARE(f.reused.back(), std::size_t(0));  // the comparison backend records every step

        // The same numbers, bit for bit.
        QCOMPARE(r.losses.size(), f.losses.size());
        QVERIFY(sameBits(r.losses, f.losses));
        for (std::size_t i = 0; i < r.params.size(); ++i)
            QVERIFY2(sameBits(r.params[i], f.params[i]), qPrintable(QString("parameter %1 differs").arg(i)));
        for (std::size_t s = 1; s < r.losses.size(); ++s) QVERIFY(r.losses[s] != r.losses[s - 1]);  // it learns
    }

    void anotherShapeIsRecordedAnew() {
        auto backend = open(true);
        const std::vector<int64_t> batches{9, 9, 9, 9, 7, 9, 9, 9, 9};
        const Trace t = train(*backend, nn::OptimizerKind::Adam, batches);
        QVERIFY(t.recorded[4] > t.recorded[3]);      // batch 7: new commands
        QCOMPARE(t.recorded.back(), t.recorded[7]);  // back to batch 9, reuse resumes
        QCOMPARE(t.reused.back(), t.reused[7] + 1);
    }
};

QTEST_GUILESS_MAIN(VulkanReuseTest)
#include "VulkanReuseTest.moc"
