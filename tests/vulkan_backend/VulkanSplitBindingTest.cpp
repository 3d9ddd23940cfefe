// Tensors larger than one storage-buffer binding (core/vulkan/backend/BindingWindow.h), on lavapipe:
// a backend whose binding limit is lowered to 64 KiB (DeviceOptions::maxBindingBytes) runs elementwise
// ops, copies, fills, reductions, softmax, cross-entropy, the optimizer updates and GEMMs on tensors of
// up to a few hundred KiB; each result equals the CPU backend's (normalized MSE <= 1e-7, or exactly) and,
// bit for bit, that of a backend with the device's own limit (one dispatch), which proves the cut
// changes no order of accumulation; each op took more dispatches on the small limit (the split path
// ran). An op that binds its operands whole (the layer ops) fails with a clear error and the backend
// goes on. Every test ends with zero validation messages.
#include "../vulkan/VulkanTestSupport.h"
#include "BackendComparison.h"

#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "tensor/TensorOps.h"
#include "vulkan/backend/GemmTiles.h"
#include "vulkan/backend/VulkanBackend.h"

#include <QTest>

#include <cstring>

using namespace raven;
using raven::test::normalizedMse;
using raven::test::permuteReverse;
using raven::test::randomValues;

namespace {

constexpr double kTolerance = 1e-7;                        // normalized MSE, fp32
constexpr VkDeviceSize kLimit = vulkan::kMinBindingBytes;  // 64 KiB = 16384 floats

// An op on one backend, given its inputs uploaded there.
using Op = std::function<Tensor(Backend&, const std::vector<Tensor>&)>;

}  // namespace

class VulkanSplitBindingTest : public QObject {
    Q_OBJECT

    std::shared_ptr<vulkan::Instance> instance_;
    std::size_t messagesBefore_ = 0;
    std::unique_ptr<VulkanBackend> split_;  // bindings of at most 64 KiB
    std::unique_ptr<VulkanBackend> plain_;  // the device's own limit (128 MiB on lavapipe)

    struct Run {
        std::vector<float> values;
        std::size_t dispatches = 0;
    };
    Run runOn(Backend& backend, const std::vector<Shape>& shapes, const Op& op, unsigned seed, float low) {
        std::vector<Tensor> inputs;
        for (std::size_t i = 0; i < shapes.size(); ++i)
            inputs.push_back(
                fromVector(shapes[i], randomValues(numelOf(shapes[i]), seed + unsigned(i), low, 2.0f), backend));
        auto* vulkan = dynamic_cast<VulkanBackend*>(&backend);
        if (vulkan) vulkan->synchronize();
        const std::size_t before = vulkan ? vulkan->stats().dispatchCalls : 0;
        Run run;
        run.values = op(backend, inputs).toVector();
        run.dispatches = vulkan ? vulkan->stats().dispatchCalls - before : 0;
        return run;
    }

    // op on the split backend equals op on the CPU (within `tolerance`; 0: exactly) and, bit for bit, op
    // on the plain backend, which needed fewer dispatches.
    void check(const std::vector<Shape>& shapes, const Op& op, double tolerance = kTolerance, float low = -2.0f) {
        const Run cpu = runOn(cpuBackend(), shapes, op, 7, low);
        const Run plain = runOn(*plain_, shapes, op, 7, low);
        const Run split = runOn(*split_, shapes, op, 7, low);
        QCOMPARE(split.values.size(), cpu.values.size());
        if (tolerance == 0) {
            QCOMPARE(split.values, cpu.values);
        } else {
            const double e = normalizedMse(split.values, cpu.values);
            QVERIFY2(e <= tolerance, qPrintable(QString("normalized MSE %1 > %2").arg(e).arg(tolerance)));
        }
        QVERIFY2(std::memcmp(split.values.data(), plain.values.data(), split.values.size() * sizeof(float)) == 0,
                 "the split result differs in bits from the one-dispatch result");
        QVERIFY2(split.dispatches > plain.dispatches,
                 qPrintable(QString("split path not taken: %1 dispatches, %2 without a lowered limit")
                                .arg(split.dispatches)
                                .arg(plain.dispatches)));
    }

private slots:
    void initTestCase() {
        QString skip;
        instance_ = raven::test::openInstance(skip);
        if (!instance_) QSKIP(qPrintable(skip));
        VulkanBackendOptions options;
        options.device.pipelineCacheDir = std::filesystem::path();  // never the user's cache
        plain_ = std::make_unique<VulkanBackend>(instance_, options);
        options.device.maxBindingBytes = kLimit;
        split_ = std::make_unique<VulkanBackend>(instance_, options);
        QCOMPARE(split_->device().maxBindingBytes(), kLimit);
        QVERIFY(plain_->device().maxBindingBytes() > 1000 * kLimit);
    }
    void cleanupTestCase() {
        split_.reset();
        plain_.reset();
    }
    RAVEN_VULKAN_VALIDATION_CHECKS

    void limitIsClampedAndAligned() {
        VulkanBackendOptions options;
        options.device.pipelineCacheDir = std::filesystem::path();
        options.device.maxBindingBytes = 1000;  // below the floor: raised to it
        VulkanBackend tiny(instance_, options);
        QCOMPARE(tiny.device().maxBindingBytes(), kLimit);
        QCOMPARE(tiny.device().maxBindingBytes() % tiny.device().bindingAlignment(), VkDeviceSize{0});
    }

    void elementwise() {
        check({{300, 200}}, [](Backend& b, const auto& in) { return b.unary(UnaryOp::Exp, in[0]); });
        check({{200, 300}}, [](Backend& b, const auto& in) { return b.unary(UnaryOp::Tanh, in[0].transpose(0, 1)); });
        check({{1, 250}}, [](Backend& b, const auto& in) {  // only the output is large
            return b.scalar(ScalarOp::Mul, in[0].expand({300, 250}), 1.5f);
        });
        check({{6, 5, 4, 5, 4, 3, 3}}, [](Backend& b, const auto& in) {  // seven dimensions that do not merge
            return b.unary(UnaryOp::Neg, permuteReverse(in[0]));
        });
        check({{300, 200}, {200, 300}},
              [](Backend& b, const auto& in) { return b.binary(BinaryOp::Mul, in[0], in[1].transpose(0, 1)); });
        check({{300, 1}, {1, 200}}, [](Backend&, const auto& in) { return binaryOp(BinaryOp::Sub, in[0], in[1]); });
    }

    void copiesAndFills() {
        check({{40, 30, 20}}, [](Backend& b, const auto& in) { return b.contiguousCopy(in[0].permute({2, 0, 1})); });
        check({{300, 100}}, [](Backend& b, const auto& in) {
            const Tensor dst = b.fill({300, 200}, -1.0f);
            b.copyInto(dst.narrow(1, 50, 100), in[0]);  // a strided destination
            return dst;
        });
        check(
            {{1}}, [](Backend& b, const auto&) { return b.fill({70000}, 0.25f); }, 0);
    }

    void reductions() {
        const auto sum = [](std::vector<int> axes) {
            return [axes](Backend& b, const std::vector<Tensor>& in) {
                return b.reduce(ReduceOp::Sum, in[0], axes, false);
            };
        };
        const auto max = [](std::vector<int> axes) {
            return [axes](Backend& b, const std::vector<Tensor>& in) {
                return b.reduce(ReduceOp::Max, in[0], axes, false);
            };
        };
        check({{100000}}, sum({0}));        // rows: two passes of chunks
        check({{300, 200}}, sum({1}));      // rows
        check({{300, 200}}, sum({0}));      // columns, cut along the reduced axis
        check({{30, 1000, 20}}, sum({1}));  // columns, a block per outer index
        check({{1000, 300}}, max({0}), 0);  // maxima exactly
        check({{2, 30000}}, max({1}), 0);
    }

    void softmaxAndCrossEntropy() {
        check({{200, 300}}, [](Backend& b, const auto& in) { return b.softmax(in[0]); });
        check({{200, 300}}, [](Backend& b, const auto& in) { return b.logSoftmax(in[0]); });
        check({{200, 300}, {200, 300}},
              [](Backend& b, const auto& in) { return b.logSoftmaxBackward(b.logSoftmax(in[0]), in[1]); });
        std::vector<float> targets(400);
        for (std::size_t i = 0; i < targets.size(); ++i) targets[i] = static_cast<float>((i * 7) % 100);
        const auto withTargets = [targets](Backend& b, const std::vector<Tensor>& in, bool backward) {
            const Tensor t = fromVector({400}, targets, b);
            return backward ? b.crossEntropyBackward(in[0], t, in[1], 0.1f) : b.crossEntropy(in[0], t, 0.1f);
        };
        check({{400, 100}}, [&](Backend& b, const auto& in) { return withTargets(b, in, false); });
        check({{400, 100}, {400}}, [&](Backend& b, const auto& in) { return withTargets(b, in, true); });

        // A bad target in a later run of rows is reported with its own sample index.
        std::vector<float> bad = targets;
        bad[350] = 100.0f;
        const Tensor x = fromVector({400, 100}, randomValues(40000, 3), *split_);
        const Tensor loss = split_->crossEntropy(x, fromVector({400}, bad, *split_), 0.0f);
        try {
            split_->synchronize();
            QFAIL("a target outside [0, 100) was not reported");
        } catch (const Error& e) {
            QVERIFY2(e.message().find("sample 350") != std::string::npos, e.message().c_str());
        }
    }

    void optimizerUpdates() {
        AdamStepScalars adam;
        adam.stepSize = 0.01f / (1.0f - 0.9f * 0.9f);
        adam.invSqrtCorrection2 = 1.0f / std::sqrt(1.0f - 0.999f * 0.999f);
        adam.weightDecay = 0.01f;
        // The fused kernels against the composed kernels on the CPU: equal to 1e-12 (optim tests).
        check(
            {{50000}, {50000}, {50000}, {50000}},
            [adam](Backend& b, const auto& in) {
                const Tensor v = mul(in[3], in[3]);
                const AdamUpdate r = dynamic_cast<VulkanBackend*>(&b)
                                         ? b.adamUpdate(in[0], in[1], in[2], v, adam)
                                         : b.Backend::adamUpdate(in[0], in[1], in[2], v, adam);
                return concat({r.param, r.expAvg, r.expAvgSq}, 0);
            },
            1e-12);
        SgdStepScalars sgd;
        sgd.lr = 0.05f;
        sgd.momentum = 0.9f;
        sgd.nesterov = true;
        check(
            {{50000}, {50000}, {50000}},
            [sgd](Backend& b, const auto& in) {
                const SgdUpdate r = dynamic_cast<VulkanBackend*>(&b) ? b.sgdUpdate(in[0], in[1], in[2], sgd)
                                                                     : b.Backend::sgdUpdate(in[0], in[1], in[2], sgd);
                return concat({r.param, r.momentumBuffer}, 0);
            },
            1e-12);
    }

    void matmul() {
        check({{300, 200}, {200, 250}, {250}},
              [](Backend& b, const auto& in) { return b.matmul(in[0], in[1], in[2]); });
        check({{64, 300}, {300, 300}, {300}},  // x W^T: a transposed weight larger than a binding
              [](Backend& b, const auto& in) { return b.matmul(in[0], in[1].transpose(0, 1), in[2]); });
        check({{3, 120, 50}, {3, 50, 140}},
              [](Backend& b, const auto& in) { return b.matmul(in[0], in[1], Tensor()); });
        check({{120, 50}, {3, 50, 140}}, [](Backend& b, const auto& in) {  // a broadcast batch
            return b.matmul(in[0].unsqueeze(0).expand({3, 120, 50}), in[1], Tensor());
        });
        check({{8, 20000}, {20000, 8}, {8}},  // tall K: split-k (shape-chosen), slices cut into windows
              [](Backend& b, const auto& in) { return b.matmul(in[0], in[1], in[2]); });
    }

    void matmulCutAlongK() {
        // Without split-k a row of A (20000 floats) exceeds a binding: the product goes in pieces along K,
        // each continuing the sums of the last.
        const auto unsplitK = [](Backend& b, const std::vector<Tensor>& in) {
            auto* vulkan = dynamic_cast<VulkanBackend*>(&b);
            if (!vulkan) return b.matmul(in[0], in[1], in[2]);
            vkb::GemmVariant v = vkb::chooseGemmVariant(vulkan->device().info(), 4, 3, 20000, 1);
            v.splitK = {};
            return vkb::matmulWith(*vulkan, in[0], in[1], in[2], v);
        };
        check({{4, 20000}, {20000, 3}, {3}}, unsplitK);
        // Split-k whose partial products exceed a binding: the second pass goes by runs of outputs and
        // slices, each continuing the sum of the last.
        const auto manySlices = [](Backend& b, const std::vector<Tensor>& in) {
            auto* vulkan = dynamic_cast<VulkanBackend*>(&b);
            if (!vulkan) return b.matmul(in[0], in[1], in[2]);
            vkb::GemmVariant v = vkb::chooseGemmVariant(vulkan->device().info(), 130, 130, 520, 1);
            v.splitK = {9, 64};
            return vkb::matmulWith(*vulkan, in[0], in[1], in[2], v);
        };
        check({{130, 520}, {520, 130}, {130}}, manySlices);
        // The blocked GPU kernel continues the sums too, storing C as floats (N = 3) and as vec4 (N = 8).
        for (const vkb::GemmTile& tile : {vkb::kLargeTile, vkb::kMediumTile}) {
            const auto blocked = [tile](Backend& b, const std::vector<Tensor>& in) {
                auto* vulkan = dynamic_cast<VulkanBackend*>(&b);
                if (!vulkan) return b.matmul(in[0], in[1], in[2]);
                vkb::GemmVariant v;
                v.tile = tile;
                return vkb::matmulWith(*vulkan, in[0], in[1], in[2], v);
            };
            check({{4, 20000}, {20000, 3}, {3}}, blocked);
            check({{8, 20000}, {20000, 8}, {8}}, blocked);
        }
    }

    void wholeBindingOpsFailClearly() {
        // The layer kernels bind each operand whole: too large a one is an error that names the limit,
        // and the backend goes on working.
        const Tensor x = fromVector({1, 1, 150, 150}, randomValues(22500, 4), *split_);
        const Tensor w = fromVector({2, 1, 3, 3}, randomValues(18, 5), *split_);
        try {
            const Tensor y = split_->conv2d(x, w, Tensor(), Conv2dGeometry{});
            QFAIL("a conv2d input larger than one binding was accepted");
        } catch (const Error& e) {
            QVERIFY2(e.message().find("binding") != std::string::npos, e.message().c_str());
        }
        QCOMPARE(split_->fill({2}, 3.0f).toVector(), std::vector<float>({3.0f, 3.0f}));
    }
};

QTEST_GUILESS_MAIN(VulkanSplitBindingTest)
#include "VulkanSplitBindingTest.moc"
