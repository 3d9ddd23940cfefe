// The Vulkan backend against the CPU backend on lavapipe: the op table (tests/common/OpCases.h: every
// op family on awkward shapes: 1, sizes that are not multiples of a tile or smaller than one, batched
// and broadcast and transposed views, views of more than six dimensions), the special cases below, finite-difference gradients through autograd on Vulkan,
// determinism, a whole MLP training step equal to the CPU's and recorded as one submission, kernel
// errors reported at the sync point, and the layer ops' wiring. Every test ends with zero validation
// messages (synchronization validation included).
#include "../vulkan/VulkanTestSupport.h"
#include "BackendComparison.h"
#include "common/GradCheck.h"
#include "common/OpCases.h"

#include "autograd/Ops.h"
#include "autograd/Variable.h"
#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "nn/Optimizer.h"
#include "tensor/Random.h"
#include "tensor/TensorOps.h"
#include "vulkan/backend/VulkanBackend.h"

#include <QTest>

#include <cstring>

using namespace raven;
using raven::test::normalizedMse;
using raven::test::permuteReverse;
using raven::test::randomValues;
using raven::test::ViewFn;

Q_DECLARE_METATYPE(raven::test::ViewFn)

namespace {

constexpr double kTolerance = 1e-7;  // normalized MSE, fp32 (transcendental ops included)

Shape shapeOf(std::initializer_list<int64_t> s) { return Shape(s); }

}  // namespace

class VulkanBackendTest : public QObject {
    Q_OBJECT

    std::shared_ptr<vulkan::Instance> instance_;
    std::size_t messagesBefore_ = 0;
    std::unique_ptr<VulkanBackend> gpu_;

    // The same host values as a tensor on the CPU and on the device.
    std::pair<Tensor, Tensor> both(const Shape& shape, unsigned seed, float low = -2.0f, float high = 2.0f) {
        const auto v = randomValues(numelOf(shape), seed, low, high);
        return {fromVector(shape, v, cpuBackend()), fromVector(shape, v, *gpu_)};
    }

    void compare(const Tensor& onGpu, const Tensor& onCpu, double tolerance = kTolerance) {
        QCOMPARE(onGpu.shape(), onCpu.shape());
        QVERIFY(&onGpu.backend() == gpu_.get());
        const double e = normalizedMse(onGpu.toVector(), onCpu.toVector());
        QVERIFY2(e <= tolerance, qPrintable(QString("normalized MSE %1 > %2").arg(e).arg(tolerance)));
    }

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

    // Every row of the op table (tests/common/OpCases.h) against the CPU backend.
    void opTable_data() {
        QTest::addColumn<int>("row");
        const auto& cases = raven::test::opCases();
        for (size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i].name.c_str()) << static_cast<int>(i);
    }
    void opTable() {
        QFETCH(int, row);
        const raven::test::OpCase& c = raven::test::opCases()[static_cast<size_t>(row)];
        const raven::test::CaseOutcome o = raven::test::compareBackends(c, *gpu_, cpuBackend());
        QVERIFY2(o.passed, o.detail.c_str());
    }

    // The verifiable mode: tests/vulkan_backend/VulkanVerifiableTest.cpp.

    void scalarPowSpecialValues() {
        // <cmath>'s rules: integer exponents keep the sign of a negative base; a fractional one gives NaN.
        const std::vector<float> v{-2.0f, -0.5f, 0.0f, 3.0f};
        for (float e : {3.0f, 2.0f, -1.0f, 0.5f}) {
            const Tensor c = fromVector({4}, v), g = fromVector({4}, v, *gpu_);
            compare(gpu_->scalar(ScalarOp::Pow, g, e), cpuBackend().scalar(ScalarOp::Pow, c, e));
        }
        const Tensor edge = fromVector({4}, {0.0f, -1.0f, 1e-30f, 100.0f}, *gpu_);
        const auto logs = gpu_->unary(UnaryOp::Log, edge).toVector();
        QVERIFY(std::isinf(logs[0]) && logs[0] < 0);
        QVERIFY(std::isnan(logs[1]));
        const auto tanhs = gpu_->unary(UnaryOp::Tanh, edge).toVector();
        QCOMPARE(tanhs[3], 1.0f);
    }

    // Runs of consecutive aligned elements take four per invocation (VulkanElementwise.cpp): the same
    // bits as one per invocation, which a view starting one element in forces, at lengths around 4.
    void vectorRunsEqualScalarRuns() {
        for (const int64_t n : {int64_t{1}, int64_t{3}, int64_t{4}, int64_t{5}, int64_t{1027}}) {
            const auto va = randomValues(n, 7, 0.1f, 3.0f), vb = randomValues(n, 8, 0.1f, 3.0f);
            const Tensor a = fromVector({n}, va, *gpu_), b = fromVector({n}, vb, *gpu_);
            std::vector<float> padded{0.0f};
            padded.insert(padded.end(), va.begin(), va.end());
            const Tensor shifted = fromVector({n + 1}, padded, *gpu_).narrow(0, 1, n);  // a's values, offset 1
            const auto same = [](const Tensor& x, const Tensor& y) {
                const auto u = x.toVector(), v = y.toVector();
                return u.size() == v.size() && std::memcmp(u.data(), v.data(), u.size() * sizeof(float)) == 0;
            };
            for (int op = 0; op <= static_cast<int>(UnaryOp::GeluErf); ++op) {
                const auto u = static_cast<UnaryOp>(op);
                QVERIFY2(same(gpu_->unary(u, a), gpu_->unary(u, shifted)),
                         qPrintable(QString("%1 at n = %2").arg(unaryOpName(u)).arg(n)));
            }
            for (int op = 0; op <= static_cast<int>(BinaryOp::GeluErfBackward); ++op) {
                const auto o = static_cast<BinaryOp>(op);
                QVERIFY2(same(gpu_->binary(o, a, b), gpu_->binary(o, shifted, b)),
                         qPrintable(QString("%1 at n = %2").arg(binaryOpName(o)).arg(n)));
            }
            QVERIFY(same(gpu_->contiguousCopy(shifted), a));
        }
    }

    void copies() {
        auto [c, g] = both({5, 7, 3}, 3);
        compare(gpu_->contiguousCopy(c.dim() ? g.permute({2, 0, 1}) : g),
                cpuBackend().contiguousCopy(c.permute({2, 0, 1})));
        compare(concat({g, g.narrow(1, 2, 4)}, 1), concat({c, c.narrow(1, 2, 4)}, 1));
        // copyInto a strided destination (every other column) from a broadcast source.
        Tensor dstG = gpu_->fill({4, 10}, -1.0f), dstC = cpuBackend().fill({4, 10}, -1.0f);
        auto [rc, rg] = both({1, 5}, 4);
        const auto everyOther = [](const Tensor& t) { return Tensor(t.storage(), {4, 5}, {10, 2}, 1); };
        gpu_->copyInto(everyOther(dstG), rg.expand({4, 5}));
        cpuBackend().copyInto(everyOther(dstC), rc.expand({4, 5}));
        compare(dstG, dstC);
        // A view of seven dimensions that do not merge: copied in blocks.
        auto [c7, g7] = both({2, 3, 2, 2, 3, 2, 2}, 5);
        compare(gpu_->contiguousCopy(permuteReverse(g7)), cpuBackend().contiguousCopy(permuteReverse(c7)));
        QCOMPARE(gpu_->fill({3}, 2.5f).toVector(), std::vector<float>({2.5f, 2.5f, 2.5f}));
        QCOMPARE(gpu_->fill({0, 3}, 1.0f).toVector(), std::vector<float>());
    }

    void reductions_data() {
        QTest::addColumn<Shape>("shape");
        QTest::addColumn<std::vector<int>>("axes");
        QTest::addColumn<bool>("keepDim");
        QTest::addColumn<bool>("transposed");
        QTest::addRow("[1] all") << shapeOf({1}) << std::vector<int>{0} << false << false;
        QTest::addRow("[10000] all (two passes)") << shapeOf({10000}) << std::vector<int>{0} << false << false;
        QTest::addRow("[3,70,5] middle (columns)") << shapeOf({3, 70, 5}) << std::vector<int>{1} << false << false;
        QTest::addRow("[3,70,5] outer two") << shapeOf({3, 70, 5}) << std::vector<int>{0, 2} << true << false;
        QTest::addRow("[3,70,5] all") << shapeOf({3, 70, 5}) << std::vector<int>{0, 1, 2} << false << false;
        QTest::addRow("[2,9000] rows") << shapeOf({2, 9000}) << std::vector<int>{1} << false << false;
        QTest::addRow("[130,33] batch (bias grad)") << shapeOf({130, 33}) << std::vector<int>{0} << false << false;
        QTest::addRow("[6000,2] long columns") << shapeOf({6000, 2}) << std::vector<int>{0} << false << false;
        QTest::addRow("[17,9]^T last") << shapeOf({17, 9}) << std::vector<int>{1} << true << true;
        QTest::addRow("[4,0] empty axis") << shapeOf({4, 0}) << std::vector<int>{1} << false << false;
    }
    void reductions() {
        QFETCH(Shape, shape);
        QFETCH(std::vector<int>, axes);
        QFETCH(bool, keepDim);
        QFETCH(bool, transposed);
        auto [c, g] = both(shape, 9);
        if (transposed) {
            c = c.transpose(0, 1);
            g = g.transpose(0, 1);
        }
        compare(gpu_->reduce(ReduceOp::Sum, g, axes, keepDim), cpuBackend().reduce(ReduceOp::Sum, c, axes, keepDim));
        if (numelOf(shape) > 0) {
            const Tensor mg = gpu_->reduce(ReduceOp::Max, g, axes, keepDim);
            QCOMPARE(mg.toVector(), cpuBackend().reduce(ReduceOp::Max, c, axes, keepDim).toVector());  // exact
        }
    }

    void matmul_data() {
        QTest::addColumn<Shape>("aShape");
        QTest::addColumn<Shape>("bShape");
        QTest::addColumn<bool>("bias");
        QTest::addColumn<ViewFn>("aView");
        QTest::addColumn<ViewFn>("bView");
        const ViewFn plain = raven::test::identityView;
        const ViewFn t2 = [](const Tensor& t) { return t.transpose(-1, -2); };
        const ViewFn broadcastBatch = [](const Tensor& t) { return t.expand({3, t.size(1), t.size(2)}); };
        const ViewFn fourBatchDims = [](const Tensor& t) { return t.permute({3, 2, 1, 0, 4, 5}); };
        QTest::addRow("1x1x1") << shapeOf({1, 1}) << shapeOf({1, 1}) << false << plain << plain;
        QTest::addRow("5x7x3 bias") << shapeOf({5, 7}) << shapeOf({7, 3}) << true << plain << plain;
        QTest::addRow("33x17x65 bias") << shapeOf({33, 17}) << shapeOf({17, 65}) << true << plain << plain;
        QTest::addRow("70x130x67 large tile") << shapeOf({70, 130}) << shapeOf({130, 67}) << true << plain << plain;
        QTest::addRow("k = 0 bias") << shapeOf({4, 0}) << shapeOf({0, 3}) << true << plain << plain;
        QTest::addRow("a^T b^T") << shapeOf({19, 40}) << shapeOf({23, 19}) << false << t2 << t2;
        QTest::addRow("batched [3,2,9,5]") << shapeOf({3, 2, 9, 5}) << shapeOf({3, 2, 5, 4}) << false << plain << plain;
        QTest::addRow("broadcast batch") << shapeOf({3, 9, 5}) << shapeOf({1, 5, 4}) << true << plain << broadcastBatch;
        QTest::addRow("4 batch dims") << shapeOf({2, 3, 2, 2, 6, 5}) << shapeOf({2, 3, 2, 2, 5, 7}) << false
                                      << fourBatchDims << fourBatchDims;
    }
    void matmul() {
        QFETCH(Shape, aShape);
        QFETCH(Shape, bShape);
        QFETCH(bool, bias);
        QFETCH(ViewFn, aView);
        QFETCH(ViewFn, bView);
        auto [ca, ga] = both(aShape, 31);
        auto [cb, gb] = both(bShape, 32);
        const Tensor va = aView(ga), vb = bView(gb);
        Tensor cbias, gbias;
        if (bias) std::tie(cbias, gbias) = both({vb.size(-1)}, 33);
        compare(gpu_->matmul(va, vb, gbias), cpuBackend().matmul(aView(ca), bView(cb), cbias));
    }

    void badTargetIsReportedAtTheSyncPoint() {
        const Tensor x = fromVector({3, 4}, randomValues(12, 1), *gpu_);
        const Tensor t = fromVector({3}, {1.0f, 4.0f, 2.5f}, *gpu_);
        const Tensor loss = gpu_->crossEntropy(x, t, 0.0f);  // recorded: nothing can be known yet
        try {
            gpu_->synchronize();
            QFAIL("a target outside [0, 4) was not reported");
        } catch (const Error& e) {
            QVERIFY2(e.message().find("sample 1") != std::string::npos, e.message().c_str());
        }
        // The backend goes on working.
        QCOMPARE(gpu_->fill({2}, 1.0f).toVector(), std::vector<float>({1.0f, 1.0f}));
    }

    void gradients_data() {
        QTest::addColumn<int>("which");
        QTest::addRow("linear") << 0;
        QTest::addRow("softmax") << 1;
        QTest::addRow("logSoftmax + tanh") << 2;
        QTest::addRow("crossEntropy smoothed") << 3;
        QTest::addRow("gelu + sigmoid + sum axis") << 4;
        QTest::addRow("max + div + batched matmul") << 5;
    }
    void gradients() {
        QFETCH(int, which);
        Generator gen(100 + static_cast<uint64_t>(which));
        const Tensor targets = fromVector({3}, {2.0f, 0.0f, 4.0f}, *gpu_);
        std::vector<raven::test::DifferentiableFn> fns = {
            [](const std::vector<Variable>& v) { return linear(v[0], v[1], v[2]); },
            [](const std::vector<Variable>& v) { return softmax(v[0]); },
            [](const std::vector<Variable>& v) { return tanh(logSoftmax(v[0], 0)); },
            [&](const std::vector<Variable>& v) { return raven::crossEntropy(v[0], targets, 0.1f); },
            [](const std::vector<Variable>& v) { return sum(sigmoid(gelu(v[0])), {1}); },
            [](const std::vector<Variable>& v) { return max(raven::matmul(v[0], v[1]) / v[2], {-1}); },
        };
        std::vector<std::vector<Shape>> shapes = {{{3, 5}, {4, 5}, {4}},      {{3, 5}}, {{4, 3}}, {{3, 5}}, {{3, 4}},
                                                  {{2, 3, 4}, {2, 4, 5}, {5}}};
        std::vector<Tensor> inputs;
        for (const Shape& s : shapes[static_cast<size_t>(which)]) {
            Tensor t = uniform(s, -1.0f, 1.0f, gen, *gpu_);
            if (which == 5 && s.size() == 1) t = uniform(s, 0.5f, 1.5f, gen, *gpu_);
            inputs.push_back(t);
        }
        const auto result = raven::test::checkGradients(fns[static_cast<size_t>(which)], inputs);
        QVERIFY2(result.ok, result.report.c_str());
    }

    void deterministic() {
        const auto run = [&] {
            Generator gen(5);
            const Tensor a = uniform({70, 90}, -1.0f, 1.0f, gen, *gpu_);
            const Tensor b = uniform({90, 65}, -1.0f, 1.0f, gen, *gpu_);
            const Tensor y = softmax(raven::matmul(a, b));
            return std::make_pair(sum(mulScalar(raven::mean(y, {0}), 3.0f)).toVector(), y.toVector());
        };
        const auto first = run(), second = run();
        QCOMPARE(first.second.size(), second.second.size());
        QVERIFY(std::memcmp(first.second.data(), second.second.data(), first.second.size() * sizeof(float)) == 0);
        QVERIFY(std::memcmp(first.first.data(), second.first.data(), sizeof(float)) == 0);
    }

    void mlpTrainingStepMatchesCpuInOneSubmission() {
        // linear(12 -> 16), relu, linear(16 -> 5), cross-entropy with smoothing, backward, SGD with
        // momentum and weight decay: the same step on both backends.
        struct StepResult {
            float loss = 0;
            std::vector<std::vector<float>> params;
            std::size_t submissions = 0;
        };
        const auto step = [&](Backend& backend) {
            const std::size_t before = gpu_->submissionCount();
            Generator gen(77);
            std::vector<Variable> params{Variable(uniform({16, 12}, -0.3f, 0.3f, gen, backend), true),
                                         Variable(uniform({16}, -0.1f, 0.1f, gen, backend), true),
                                         Variable(uniform({5, 16}, -0.3f, 0.3f, gen, backend), true),
                                         Variable(uniform({5}, -0.1f, 0.1f, gen, backend), true)};
            const Tensor x = uniform({9, 12}, -1.0f, 1.0f, gen, backend);
            const Tensor y = fromVector({9}, {0, 1, 2, 3, 4, 0, 1, 2, 3}, backend);
            const Variable hidden = relu(linear(Variable(x), params[0], params[1]));
            const Variable loss = raven::crossEntropy(linear(hidden, params[2], params[3]), y, 0.1f);
            loss.backward();
            nn::OptimizerConfig config = nn::OptimizerConfig::defaults(nn::OptimizerKind::Sgd);
            config.lr = 0.1;
            config.momentum = 0.9;
            config.weightDecay = 0.01;
            auto optimizer = nn::makeOptimizer(config, {"w1", "b1", "w2", "b2"});
            std::vector<Tensor> values, grads;
            for (const Variable& p : params) {
                values.push_back(p.tensor());
                grads.push_back(p.grad());
            }
            optimizer->step(values, grads);
            optimizer->step(values, grads);  // momentum buffers in use
            backend.synchronize();
            StepResult result;
            result.submissions = gpu_->submissionCount() - before;
            result.loss = loss.tensor().item();
            for (const Tensor& v : values) result.params.push_back(v.toVector());
            return result;
        };
        const StepResult cpu = step(cpuBackend());
        const StepResult gpu = step(*gpu_);
        QCOMPARE(gpu.submissions, std::size_t{1});
        QVERIFY(std::fabs(gpu.loss - cpu.loss) <= 1e-5f * std::fabs(cpu.loss));
        for (std::size_t i = 0; i < cpu.params.size(); ++i) {
            const double e = normalizedMse(gpu.params[i], cpu.params[i]);
            QVERIFY2(e <= 1e-10, qPrintable(QString("parameter %1: normalized MSE %2").arg(i).arg(e)));
        }
    }

    void freedBuffersWaitForTheSubmission() {
        // A tensor freed while its kernel is only recorded must not have its memory handed out again
        // before the kernel ran: the result below depends on `a` surviving until the submission.
        gpu_->synchronize();
        const auto live = [&] { return gpu_->device().memory().stats().liveBuffers; };
        const auto before = live();
        Tensor result;
        {
            const Tensor a = fromVector({256}, randomValues(256, 8), *gpu_);
            result = gpu_->unary(UnaryOp::Neg, a);
        }
        const Tensor b = gpu_->fill({256}, 123.0f);  // must not land in a's memory yet
        QCOMPARE(live(), before + 3);                // a's buffer is held until the submission
        const auto values = result.toVector();
        const auto expected = randomValues(256, 8);
        for (std::size_t i = 0; i < values.size(); ++i) QCOMPARE(values[i], -expected[i]);
        QCOMPARE(b.toVector()[0], 123.0f);
        QCOMPARE(live(), before + 2);  // and freed after it
    }

    void layerOpsAreWired() {
        // The layer shaders are tested in tests/vulkan_layers; this checks that the backend binds its
        // tensors to them correctly (views, offsets, optional operands).
        auto [cx, gx] = both({2, 3, 7, 6}, 71);
        auto [cw, gw] = both({4, 3, 3, 3}, 72);
        auto [cb, gb] = both({4}, 73);
        const Conv2dGeometry geometry{.strideH = 2, .padH = 1, .padW = 1};
        const Tensor cy = cpuBackend().conv2d(cx, cw, cb, geometry);
        compare(gpu_->conv2d(gx, gw, gb, geometry), cy, 1e-7);
        auto [cdy, gdy] = both(cy.shape(), 74);
        const LayerGrads cg = cpuBackend().conv2dBackward(cx, cw, cdy, cx.shape(), geometry, {true, true, true});
        const LayerGrads gg = gpu_->conv2dBackward(gx, gw, gdy, gx.shape(), geometry, {true, true, true});
        compare(gg.input, cg.input);
        compare(gg.weight, cg.weight);
        compare(gg.bias, cg.bias);

        const Pool2dWindow window{.kernelH = 2, .kernelW = 2, .strideH = 2, .strideW = 2};
        const Tensor xt = gx.transpose(2, 3), ct = cx.transpose(2, 3);  // a strided input
        const MaxPool2dResult mc = cpuBackend().maxPool2d(ct, window), mg = gpu_->maxPool2d(xt, window);
        compare(mg.values, mc.values);
        QCOMPARE(mg.argmax.toVector(), mc.argmax.toVector());
        compare(gpu_->avgPool2d(xt, window, true), cpuBackend().avgPool2d(ct, window, true));

        const NormResult lc = cpuBackend().layerNorm(cx, 6, cw.flatten().narrow(0, 0, 6), Tensor(), 1e-5f);
        const NormResult lg = gpu_->layerNorm(gx, 6, gw.flatten().narrow(0, 0, 6), Tensor(), 1e-5f);
        compare(lg.y, lc.y, 1e-7);

        const Tensor ci = fromVector({2, 2}, {3, 0, 5, 3}), gi = fromVector({2, 2}, {3, 0, 5, 3}, *gpu_);
        const Tensor table = cw.view({6, 18}), gtable = gw.view({6, 18});
        compare(gpu_->embedding(gi, gtable), cpuBackend().embedding(ci, table));
        const Tensor bad = fromVector({2}, {1, 6}, *gpu_);
        const Tensor rows = gpu_->embedding(bad, gtable);
        QVERIFY_THROWS_EXCEPTION(Error, gpu_->synchronize());

        compare(gpu_->dropout(gx, 0.3f, 9, 4), cpuBackend().dropout(cx, 0.3f, 9, 4));
    }
};

QTEST_GUILESS_MAIN(VulkanBackendTest)
#include "VulkanBackendTest.moc"
