#include "DeviceCheck.h"

#include "common/ErrorMetric.h"
#include "common/OpCases.h"

#include "autograd/LayerOps.h"
#include "autograd/Ops.h"
#include "autograd/Variable.h"
#include "cpu/CpuBackend.h"

#include "tensor/Backend.h"
#include "tensor/Random.h"
#include "tensor/Tensor.h"
#include "tensor/TensorOps.h"
#include "vulkan/backend/GemmTiles.h"
#include "vulkan/backend/VulkanBackend.h"

#include <cmath>
#include <string>
#include <vector>

namespace raven::bench {
namespace {

constexpr double kFp32 = 1e-7;       // the test suite's tolerance for fp32 kernels
constexpr double kTranscend = 1e-6;  // exp, log, tanh, erf come from the driver

// A pair of equal tensors, one on each backend.
struct Pair {
    Tensor cpu, gpu;
};

class Checker {
public:
    Checker(VulkanBackend& gpu, const std::function<void(const CheckRow&)>& report) : gpu_(gpu), report_(report) {}

    Pair random(const Shape& shape, float low = -2.0f, float high = 2.0f) {
        const Tensor c = uniform(shape, low, high, gen_, cpuBackend());
        return {c, fromVector(shape, c.toVector(), gpu_)};
    }
    Pair of(const Shape& shape, const std::vector<float>& values) {
        return {fromVector(shape, values), fromVector(shape, values, gpu_)};
    }

    void expect(const std::string& name, const Tensor& gpuResult, const Tensor& cpuResult, double tolerance = kFp32) {
        const CheckRow row{name, normalizedMse(gpuResult.toVector(), cpuResult.toVector()), tolerance};
        if (!row.passed()) ++failures_;
        report_(row);
    }

    void record(const CheckRow& row, const std::function<void(const CheckRow&)>& report) {
        if (!row.passed()) ++failures_;
        report(row);
    }

    VulkanBackend& gpu() { return gpu_; }
    Backend& cpu() { return cpuBackend(); }
    int failures() const { return failures_; }

private:
    VulkanBackend& gpu_;
    const std::function<void(const CheckRow&)>& report_;
    Generator gen_{7};
    int failures_ = 0;
};

std::string shapeName(const Shape& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
    return out;
}

// Every row of the op table (tests/common/OpCases.h), judged by the row's own tolerance.
void checkOpTable(Checker& c, const std::function<void(const CheckRow&)>& report) {
    for (const raven::test::OpCase& row : raven::test::opCases()) {
        const raven::test::CaseOutcome o = raven::test::compareBackends(row, c.gpu(), c.cpu());
        CheckRow r{"table: " + row.name, o.worstNmse, row.tolerance.bitExact ? 0.0 : row.tolerance.nmse};
        r.mismatch = !o.passed;
        c.record(r, report);
    }
}

void checkGemm(Checker& c, bool smoke) {
    struct Case {
        int64_t m, n, k;
    };
    std::vector<Case> cases = {{1, 1, 1}, {17, 33, 9}, {130, 67, 70}, {129, 132, 24}, {8, 8, 4096}, {257, 255, 300}};
    if (!smoke) cases.push_back({1024, 1024, 1024});
    for (const Case& k : cases) {
        const Pair a = c.random({k.m, k.k}), b = c.random({k.k, k.n}), bias = c.random({k.n});
        const Tensor want = c.cpu().matmul(a.cpu, b.cpu, bias.cpu);
        const std::string name = std::to_string(k.m) + "x" + std::to_string(k.n) + "x" + std::to_string(k.k);
        for (const vkb::GemmTile& tile : vkb::gemmTiles()) {
            if (!vkb::gemmTileAllowed(c.gpu().device().info(), tile)) continue;
            vkb::GemmVariant v = vkb::chooseGemmVariant(c.gpu().device().info(), k.m, k.n, k.k, 1);
            v.tile = tile;
            c.expect("gemm " + name + " " + vkb::describe(v), vkb::matmulWith(c.gpu(), a.gpu, b.gpu, bias.gpu, v),
                     want);
        }
        c.expect("gemm " + name + " chosen, transposed operands",
                 c.gpu().matmul(a.gpu.transpose(0, 1).contiguous().transpose(0, 1), b.gpu, bias.gpu), want);
    }
    const Pair a = c.random({3, 2, 9, 5}), b = c.random({3, 2, 5, 8});
    c.expect("gemm batched [3,2,9,5]x[3,2,5,8]", c.gpu().matmul(a.gpu, b.gpu, Tensor()),
             c.cpu().matmul(a.cpu, b.cpu, Tensor()));
}

void checkElementwise(Checker& c, bool smoke) {
    for (const int64_t n : {int64_t{1}, int64_t{5}, smoke ? int64_t{1027} : int64_t{1} << 22}) {
        const Pair x = c.random({n}, 0.1f, 3.0f), y = c.random({n}, 0.1f, 3.0f);
        for (int op = 0; op <= static_cast<int>(UnaryOp::GeluErf); ++op) {
            const auto u = static_cast<UnaryOp>(op);
            c.expect(std::string("unary ") + unaryOpName(u) + " n=" + std::to_string(n), c.gpu().unary(u, x.gpu),
                     c.cpu().unary(u, x.cpu), kTranscend);
        }
        for (int op = 0; op <= static_cast<int>(BinaryOp::GeluErfBackward); ++op) {
            const auto b = static_cast<BinaryOp>(op);
            c.expect(std::string("binary ") + binaryOpName(b) + " n=" + std::to_string(n),
                     c.gpu().binary(b, x.gpu, y.gpu), c.cpu().binary(b, x.cpu, y.cpu), kTranscend);
        }
    }
    // Strided, broadcast and offset views (one element per invocation).
    const Pair m = c.random({33, 65}), row = c.random({1, 65});
    c.expect("binary add broadcast row", c.gpu().binary(BinaryOp::Add, m.gpu, row.gpu.expand({33, 65})),
             c.cpu().binary(BinaryOp::Add, m.cpu, row.cpu.expand({33, 65})));
    c.expect("unary tanh transposed", c.gpu().unary(UnaryOp::Tanh, m.gpu.transpose(0, 1)),
             c.cpu().unary(UnaryOp::Tanh, m.cpu.transpose(0, 1)), kTranscend);
    c.expect("copy narrowed", c.gpu().contiguousCopy(m.gpu.narrow(1, 1, 63)),
             c.cpu().contiguousCopy(m.cpu.narrow(1, 1, 63)), 0);
}

void checkReductionsAndSoftmax(Checker& c) {
    const Pair x = c.random({37, 1029});
    for (const std::vector<int>& axes : {std::vector<int>{0}, std::vector<int>{1}, std::vector<int>{0, 1}}) {
        const std::string which = axes.size() == 2 ? "all" : "axis " + std::to_string(axes[0]);
        c.expect("sum " + which, c.gpu().reduce(ReduceOp::Sum, x.gpu, axes, false),
                 c.cpu().reduce(ReduceOp::Sum, x.cpu, axes, false));
        c.expect("max " + which, c.gpu().reduce(ReduceOp::Max, x.gpu, axes, false),
                 c.cpu().reduce(ReduceOp::Max, x.cpu, axes, false), 0);
    }
    c.expect("softmax", c.gpu().softmax(x.gpu), c.cpu().softmax(x.cpu), kTranscend);
    c.expect("logSoftmax", c.gpu().logSoftmax(x.gpu), c.cpu().logSoftmax(x.cpu), kTranscend);
    const Pair logits = c.random({128, 10});
    std::vector<float> labels(128);
    for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<float>((i * 7) % 10);
    const Pair targets = c.of({128}, labels), one = c.of({128}, std::vector<float>(128, 1.0f / 128));
    c.expect("cross-entropy", c.gpu().crossEntropy(logits.gpu, targets.gpu, 0.1f),
             c.cpu().crossEntropy(logits.cpu, targets.cpu, 0.1f), kTranscend);
    c.expect("cross-entropy backward", c.gpu().crossEntropyBackward(logits.gpu, targets.gpu, one.gpu, 0.1f),
             c.cpu().crossEntropyBackward(logits.cpu, targets.cpu, one.cpu, 0.1f), kTranscend);
}

void checkConvolutionAndPooling(Checker& c, bool smoke) {
    struct Case {
        const char* name;
        Shape x, w;
        Conv2dGeometry g;
    };
    const int64_t batch = smoke ? 8 : 128;
    const Case cases[] = {
        {"CNN conv1", {batch, 1, 28, 28}, {32, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 1}},
        {"CNN conv2", {batch, 32, 14, 14}, {64, 32, 3, 3}, {1, 1, 1, 1, 1, 1, 1}},
        {"stride 2 groups 2", {3, 4, 11, 10}, {6, 2, 3, 3}, {2, 2, 1, 0, 1, 1, 2}},
        {"1x1 odd", {3, 5, 7, 3}, {6, 5, 1, 1}, {}},
    };
    for (const Case& k : cases) {
        const Pair x = c.random(k.x), w = c.random(k.w, -0.5f, 0.5f), b = c.random({k.w[0]});
        const Tensor yc = c.cpu().conv2d(x.cpu, w.cpu, b.cpu, k.g);
        c.expect(std::string("conv2d ") + k.name + " " + shapeName(k.x) + " forward",
                 c.gpu().conv2d(x.gpu, w.gpu, b.gpu, k.g), yc);
        const Pair dy = c.random(yc.shape());
        const LayerGrads gc = c.cpu().conv2dBackward(x.cpu, w.cpu, dy.cpu, k.x, k.g, {true, true, true});
        const LayerGrads gg = c.gpu().conv2dBackward(x.gpu, w.gpu, dy.gpu, k.x, k.g, {true, true, true});
        c.expect(std::string("conv2d ") + k.name + " input gradient", gg.input, gc.input);
        c.expect(std::string("conv2d ") + k.name + " weight gradient", gg.weight, gc.weight);
        c.expect(std::string("conv2d ") + k.name + " bias gradient", gg.bias, gc.bias);
    }
    const Pair x = c.random({batch, 32, 28, 28});
    const Pool2dWindow window{2, 2, 2, 2, 0, 0};
    const MaxPool2dResult pc = c.cpu().maxPool2d(x.cpu, window), pg = c.gpu().maxPool2d(x.gpu, window);
    c.expect("max pool forward", pg.values, pc.values, 0);
    const Pair dy = c.random(pc.values.shape());
    c.expect("max pool backward", c.gpu().maxPool2dBackward(pg.argmax, dy.gpu, x.gpu.shape(), window),
             c.cpu().maxPool2dBackward(pc.argmax, dy.cpu, x.cpu.shape(), window), 0);
}

void checkAdam(Checker& c, bool smoke) {
    for (const int64_t n : {int64_t{10}, int64_t{1027}, smoke ? int64_t{4096} : int64_t{1} << 20}) {
        const Pair p = c.random({n}), g = c.random({n}), m = c.random({n}, -0.1f, 0.1f), v = c.random({n}, 0.0f, 0.01f);
        AdamStepScalars s;
        s.stepSize = 1e-3f / (1.0f - 0.9f * 0.9f);
        s.invSqrtCorrection2 = 1.0f / std::sqrt(1.0f - 0.999f * 0.999f);
        s.weightDecay = 0.01f;
        const AdamUpdate want = c.cpu().adamUpdate(p.cpu, g.cpu, m.cpu, v.cpu, s);
        const AdamUpdate got = c.gpu().adamUpdate(p.gpu, g.gpu, m.gpu, v.gpu, s);
        const std::string name = "adam n=" + std::to_string(n);
        c.expect(name + " param", got.param, want.param);
        c.expect(name + " moments", concat({got.expAvg, got.expAvgSq}, 0), concat({want.expAvg, want.expAvgSq}, 0));
    }
}

// The verifiable kernel mode (tensor/KernelMode.h, docs/verification.md) on this device: the device
// gate first (a device that fails it may take no verifiable unit: one failed row with its reasons),
// then every verifiable row of the op table and the MLP's products at batch 128 on the GPU's
// verifiable shaders against the CPU's verifiable kernels, bit for bit. A row whose kernel has no
// verifiable shader yet is refused by the backend and reported as such, not as a failure.
void checkVerifiable(Checker& c, const std::function<void(const CheckRow&)>& report) {
    struct Modes {
        Backend &gpu, &cpu;
        Modes(Backend& g, Backend& h) : gpu(g), cpu(h) {
            gpu.setKernelMode(KernelMode::Verifiable);
            cpu.setKernelMode(KernelMode::Verifiable);
        }
        ~Modes() {
            gpu.setKernelMode(KernelMode::Fast);
            cpu.setKernelMode(KernelMode::Fast);
        }
    } modes(c.gpu(), c.cpu());
    try {
        c.gpu().requireVerifiableDevice();
    } catch (const std::exception& e) {
        CheckRow r{std::string("verifiable: device gate: ") + e.what(), 0, 0};
        r.mismatch = true;
        c.record(r, report);
        return;
    }
    int refused = 0;
    for (raven::test::OpCase row : raven::test::opCases()) {
        if (!row.verifiable) continue;
        row.tolerance = raven::test::Tolerance::exact();
        try {
            const raven::test::CaseOutcome o = raven::test::compareBackends(row, c.gpu(), c.cpu());
            CheckRow r{"verifiable, bit-exact: " + row.name, o.worstNmse, 0};
            r.mismatch = !o.passed;
            c.record(r, report);
        } catch (const std::exception& e) {
            if (std::string(e.what()).find("has no verifiable kernel for") == std::string::npos) {
                CheckRow r{"verifiable: " + row.name + ": " + e.what(), 0, 0};
                r.mismatch = true;
                c.record(r, report);
            } else {
                ++refused;
            }
        }
    }
    c.record({"verifiable: " + std::to_string(refused) + " op-table rows have no verifiable shader yet (refused)", 0, 0},
             report);
    const int64_t sizes[] = {784, 256, 128, 10};
    for (int layer = 0; layer < 3; ++layer) {
        const Pair x = c.random({128, sizes[layer]}), w = c.random({sizes[layer + 1], sizes[layer]}),
                   b = c.random({sizes[layer + 1]});
        const std::vector<float> got = c.gpu().matmul(x.gpu, w.gpu.transpose(0, 1), b.gpu).toVector();
        const std::vector<float> want = c.cpu().matmul(x.cpu, w.cpu.transpose(0, 1), b.cpu).toVector();
        CheckRow r{"verifiable, bit-exact: MLP product 128x" + std::to_string(sizes[layer]) + " x (" +
                       std::to_string(sizes[layer + 1]) + "x" + std::to_string(sizes[layer]) + ")^T + bias",
                   normalizedMse(got, want), 0};
        r.mismatch = raven::test::firstBitDifference(got, want) >= 0;
        c.record(r, report);
    }
}

// The gradient a worker sends for one MLP work unit (training::computeGradientSums): examples/mlp.json's
// 784-256-128-10 with ReLU built from the same autograd ops, the mean cross-entropy of nn::Model::loss,
// backward, and each parameter's mean-loss gradient times the batch, flattened in parameter order. On
// `backend` in its current kernel mode; the weights and the batch are given as host values.
std::vector<float> mlpUnitGradient(Backend& backend, const std::vector<std::vector<float>>& weights,
                                   const std::vector<float>& pixels, const std::vector<float>& labels) {
    const int64_t sizes[] = {784, 256, 128, 10};
    const auto batch = static_cast<int64_t>(labels.size());
    std::vector<Variable> params;
    for (int l = 0; l < 3; ++l) {
        params.emplace_back(fromVector({sizes[l + 1], sizes[l]}, weights[2 * l], backend), true);
        params.emplace_back(fromVector({sizes[l + 1]}, weights[2 * l + 1], backend), true);
    }
    Variable h(fromVector({batch, 784}, pixels, backend));
    for (int l = 0; l < 3; ++l) {
        h = linear(h, params[2 * l], params[2 * l + 1]);
        if (l < 2) h = relu(h);
    }
    const Variable loss = crossEntropy(h, fromVector({batch}, labels, backend));
    loss.backward();
    std::vector<float> gradient;
    for (const Variable& p : params)
        for (const float g : p.grad().toVector()) gradient.push_back(g * static_cast<float>(batch));
    return gradient;
}

// The gradient a worker sends for one unit of examples/cnn.json (conv3x3 32 - relu - maxpool - conv3x3 64
// - relu - maxpool - fc128 - relu - fc10) built from the same autograd ops as nn::Model, as
// mlpUnitGradient. Weights in parameter order: conv1 w, b, conv2 w, b, fc1 w, b, fc2 w, b.
std::vector<float> cnnUnitGradient(Backend& backend, const std::vector<std::vector<float>>& weights,
                                   const std::vector<float>& pixels, const std::vector<float>& labels) {
    const Shape shapes[] = {{32, 1, 3, 3}, {32}, {64, 32, 3, 3}, {64}, {128, 64 * 7 * 7}, {128}, {10, 128}, {10}};
    const auto batch = static_cast<int64_t>(labels.size());
    std::vector<Variable> params;
    for (size_t i = 0; i < 8; ++i) params.emplace_back(fromVector(shapes[i], weights[i], backend), true);
    const Conv2dOptions same{.padding = Size2d(1, 1)};
    Variable h(fromVector({batch, 1, 28, 28}, pixels, backend));
    h = maxPool2d(relu(conv2d(h, params[0], params[1], same)), Size2d(2, 2));
    h = maxPool2d(relu(conv2d(h, params[2], params[3], same)), Size2d(2, 2));
    h = linear(relu(linear(flatten(h, 1), params[4], params[5])), params[6], params[7]);
    const Variable loss = crossEntropy(h, fromVector({batch}, labels, backend));
    loss.backward();
    std::vector<float> gradient;
    for (const Variable& p : params)
        for (const float g : p.grad().toVector()) gradient.push_back(g * static_cast<float>(batch));
    return gradient;
}

// Issue 18's whole-unit proof on this device: one verifiable work unit of the MLP and one of the CNN
// (batch 128) on the GPU's verifiable shaders and on the CPU's verifiable kernels at 1 and 2 threads
// give the same gradient bits (NaNs equal, as coordinator::gradientDigest canonicalizes them; the
// suite's worker_verifiable_unit_vulkan compares the SHA-256 digests through the worker's UnitComputer).
void checkVerifiableUnit(Checker& c, bool smoke, const std::function<void(const CheckRow&)>& report) {
    const int64_t batch = smoke ? 16 : 128;
    using UnitGradient = std::vector<float> (*)(Backend&, const std::vector<std::vector<float>>&,
                                                const std::vector<float>&, const std::vector<float>&);
    struct Model {
        const char* name;
        std::vector<Shape> shapes;  // parameters in order
        std::vector<int64_t> fanIn;
        UnitGradient gradient;
    };
    const Model models[] = {
        {"MLP",
         {{256, 784}, {256}, {128, 256}, {128}, {10, 128}, {10}},
         {784, 784, 256, 256, 128, 128},
         &mlpUnitGradient},
        {"CNN",
         {{32, 1, 3, 3}, {32}, {64, 32, 3, 3}, {64}, {128, 64 * 7 * 7}, {128}, {10, 128}, {10}},
         {9, 9, 288, 288, 3136, 3136, 128, 128},
         &cnnUnitGradient},
    };
    for (const Model& model : models) {
        Generator gen(11);
        std::vector<std::vector<float>> weights;
        for (size_t i = 0; i < model.shapes.size(); ++i) {
            const float bound = 1.0f / std::sqrt(static_cast<float>(model.fanIn[i]));
            weights.push_back(uniform(model.shapes[i], -bound, bound, gen).toVector());
        }
        const std::vector<float> pixels = uniform({batch, 784}, 0.0f, 1.0f, gen).toVector();
        std::vector<float> labels(static_cast<size_t>(batch));
        for (float& y : labels) y = static_cast<float>(gen.nextBelow(10));

        CpuBackend oneThread(1), twoThreads(2);
        std::vector<std::vector<float>> gradients;
        try {
            for (Backend* b : std::initializer_list<Backend*>{&c.gpu(), &oneThread, &twoThreads}) {
                b->setKernelMode(KernelMode::Verifiable);
                gradients.push_back(model.gradient(*b, weights, pixels, labels));
            }
            c.gpu().setKernelMode(KernelMode::Fast);
        } catch (const std::exception& e) {
            c.gpu().setKernelMode(KernelMode::Fast);
            CheckRow r{std::string("verifiable ") + model.name + " unit: " + e.what(), 0, 0};
            r.mismatch = true;
            c.record(r, report);
            continue;
        }
        const char* names[] = {"CPU x1", "CPU x2"};
        for (size_t i = 1; i < gradients.size(); ++i) {
            CheckRow r{"verifiable, bit-exact: whole " + std::string(model.name) + " unit (batch " +
                           std::to_string(batch) + ", " + std::to_string(gradients[0].size()) +
                           " gradient values) vs " + names[i - 1],
                       normalizedMse(gradients[0], gradients[i]), 0};
            r.mismatch = raven::test::firstBitDifference(gradients[0], gradients[i]) >= 0;
            c.record(r, report);
        }
    }
}

}  // namespace

double normalizedMse(const std::vector<float>& got, const std::vector<float>& want) {
    return raven::test::normalizedMse(got, want);
}

int checkAgainstCpu(VulkanBackend& backend, bool smoke, const std::function<void(const CheckRow&)>& report) {
    Checker c(backend, report);
    checkOpTable(c, report);
    checkGemm(c, smoke);
    checkElementwise(c, smoke);
    checkReductionsAndSoftmax(c);
    checkConvolutionAndPooling(c, smoke);
    checkAdam(c, smoke);
    checkVerifiable(c, report);
    checkVerifiableUnit(c, smoke, report);
    return c.failures();
}

}  // namespace raven::bench
