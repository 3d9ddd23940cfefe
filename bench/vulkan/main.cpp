// raven-bench-vulkan: how fast the Vulkan backend is, measured the way torch_peer.py measures PyTorch
// on the same GPU (run.sh runs both and prints one table; docs/benchmarks.md, "Vulkan").
//
//   raven-bench-vulkan [--what gemm,elementwise,train,sweep,check] [--device SEL] [--profile] [--smoke]
//                      [--seconds S] [--shapes MxNxK,...] [--verifiable]
//
//  - gemm: C = A B through VulkanBackend::matmul (the path every Linear takes) at 1024^3, 4096^3,
//    8192^3 and M x N x K = 4096 x 512 x 14336, in TFLOP/s (2 M N K per product), with the GEMM
//    variant the backend chose (tile, vec4 loads, split-k; docs/vulkan.md). With --verifiable, each
//    shape also through the verifiable kernel mode's product (compute-shaders/verifiable_gemm.comp),
//    reported as gemm_verifiable with its time over the fast product's (the cost of the mode); train
//    also times the MLP's and the CNN's step in the verifiable mode (train_verifiable, and
//    train_verifiable_cost: its time over the fast step's).
//  - elementwise: add, mul, gelu (erf) and the fused Adam update (Backend::adamUpdate) on 2^26 floats,
//    in GB/s (bytes each kernel must read and write), beside the device's copy bandwidth measured in the
//    same run twice: vkCmdCopyBuffer and Raven's copy shader.
//  - train: steps/s of the Fashion-MNIST MLP (784-256-128-10, ReLU) and CNN (conv3x3 32 - maxpool -
//    conv3x3 64 - maxpool - fc128 - fc10) at batch 128, built from autograd ops, cross-entropy, Adam
//    (lr 1e-3) through Backend::adamUpdate. Each step uploads a batch of random data of the right
//    shapes, runs forward, backward and the update, and reads the loss: one submission per step, whose
//    command buffer is recorded once and then resubmitted (recorded/step shows it). (--smoke: batch 16.)
//  - sweep (not run unless asked): every GEMM variant the device allows at 1024^3, 2048^3, 4096^3,
//    8192^3, 4096x512x14336, 512x512x8192 and the MLP's 128x256x784 and 784x256x128: each tile and kernel, scalar
//    loads, and split-k into 1-16 slices, in TFLOP/s beside the variant the backend chooses, each checked against the
//    chosen one's result (and the chosen one against the CPU backend up to 4096^3): the data to tune GemmVariants.cpp
//    with on a new GPU (docs/vulkan.md).
//  - check (not run unless asked): the backend against the CPU backend on this device
//    (DeviceCheck.h), one `CHECK name: normalized MSE x (tolerance t) ok|FAILED` line each; a failure
//    fails the run. What the test suite checks on lavapipe, for a GPU machine without Qt.
// Every figure: warm-up first (pipelines compiled), then timed windows of repeated work ended by a
// sync point (wall clock around synchronize), the best window reported. Results are lines
// `RESULT {json}`; `DEVICE ...` names the device. --profile: after the timed windows, one more window
// with per-dispatch timestamps, and its per-kernel table (VulkanBackend::profileTable).
// --smoke: tiny sizes, one short window each (the test suite runs it on lavapipe with validation on);
// exits non-zero on a validation message or a figure that is not positive and finite.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "DeviceCheck.h"
#include "autograd/LayerOps.h"
#include "autograd/Ops.h"
#include "autograd/Variable.h"
#include "base/Error.h"
#include "tensor/Random.h"
#include "tensor/TensorOps.h"
#include "vulkan/Check.h"
#include "vulkan/Device.h"
#include "vulkan/backend/GemmTiles.h"
#include "vulkan/backend/VulkanBackend.h"

namespace {

using Clock = std::chrono::steady_clock;
using raven::Tensor;
using raven::Variable;
using raven::VulkanBackend;

// An M x N x K product.
struct GemmShape {
    int64_t m, n, k;
    std::string name() const { return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k); }
    double flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
};

struct Options {
    std::vector<std::string> what{"gemm", "elementwise", "train"};
    std::vector<GemmShape> shapes;  // --shapes: instead of gemm's and sweep's own
    std::string device;
    bool profile = false;
    bool smoke = false;
    bool verifiable = false;  // --verifiable: gemm also times the verifiable product beside the fast one
    double seconds = 0.5;  // per timed window
    int windows = 3;
};

[[noreturn]] void usage(const std::string& problem) {
    std::cerr << "raven-bench-vulkan: " << problem << "\n"
              << "usage: raven-bench-vulkan [--what gemm,elementwise,train,sweep,check] [--device SEL] [--profile]\n"
              << "       [--smoke] [--seconds S] [--shapes MxNxK,...] [--verifiable]\n";
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(a + " needs a value");
            return argv[++i];
        };
        if (a == "--what") {
            o.what.clear();
            std::stringstream list(value());
            for (std::string item; std::getline(list, item, ',');) {
                if (item != "gemm" && item != "elementwise" && item != "train" && item != "sweep" && item != "check")
                    usage("unknown benchmark " + item);
                o.what.push_back(item);
            }
        } else if (a == "--shapes") {
            std::stringstream list(value());
            for (std::string item; std::getline(list, item, ',');) {
                GemmShape g{};
                char x1 = 0, x2 = 0;
                std::stringstream one(item);
                if (!(one >> g.m >> x1 >> g.n >> x2 >> g.k) || x1 != 'x' || x2 != 'x' || g.m < 1 || g.n < 1 || g.k < 1)
                    usage("--shapes takes products like 1024x1024x1024, not " + item);
                o.shapes.push_back(g);
            }
        } else if (a == "--device") {
            o.device = value();
        } else if (a == "--profile") {
            o.profile = true;
        } else if (a == "--smoke") {
            o.smoke = true;
        } else if (a == "--verifiable") {
            o.verifiable = true;
        } else if (a == "--seconds") {
            o.seconds = std::atof(value().c_str());
            if (!(o.seconds > 0)) usage("--seconds takes a positive number");
        } else if (a == "-h" || a == "--help") {
            usage("help");
        } else {
            usage("unknown argument " + a);
        }
    }
    if (o.smoke) {
        o.seconds = 0.02;
        o.windows = 1;
    }
    return o;
}

bool g_allSane = true;

// One line for run.sh: RESULT {"bench": ..., "case": ..., "value": ..., "unit": ..., ...extra}.
void result(const std::string& bench, const std::string& name, double value, const std::string& unit,
            const std::string& extra = "") {
    if (!std::isfinite(value) || value <= 0) {
        g_allSane = false;
        std::cerr << "raven-bench-vulkan: " << bench << " " << name << " gave " << value << " " << unit << "\n";
    }
    std::printf("RESULT {\"bench\": \"%s\", \"case\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"%s}\n", bench.c_str(),
                name.c_str(), value, unit.c_str(), extra.c_str());
    std::fflush(stdout);
}

// Runs `work` (which records one unit of work) repeatedly: warm-up, then windows of about
// opt.seconds each, every window ended by a sync point. Returns the best seconds per unit.
double timeBest(VulkanBackend& backend, const Options& opt, const std::function<void()>& work, int warmup = 2) {
    for (int i = 0; i < warmup; ++i) work();
    backend.synchronize();
    auto t0 = Clock::now();
    work();
    backend.synchronize();
    const double once = std::chrono::duration<double>(Clock::now() - t0).count();
    const int reps = static_cast<int>(std::clamp(opt.seconds / std::max(once, 1e-6), 1.0, 1000.0));
    double best = once;
    for (int w = 0; w < opt.windows; ++w) {
        t0 = Clock::now();
        for (int r = 0; r < reps; ++r) work();
        backend.synchronize();
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count() / reps);
    }
    return best;
}

// With --profile: one more pass of `work` with timestamps on, and the per-kernel table.
void profileOnce(VulkanBackend& backend, const Options& opt, const std::string& title,
                 const std::function<void()>& work) {
    if (!opt.profile) return;
    const int reps = opt.smoke ? 1 : 3;
    backend.synchronize();
    if (!backend.setProfiling(true)) {
        std::printf("PROFILE %s: the device has no timestamps on its compute queue\n", title.c_str());
        return;
    }
    backend.resetProfile();
    for (int r = 0; r < reps; ++r) work();
    backend.synchronize();
    backend.setProfiling(false);
    std::printf("PROFILE %s (%d repetitions)\n%s", title.c_str(), reps, backend.profileTable().c_str());
    std::fflush(stdout);
}

Tensor randomTensor(const raven::Shape& shape, raven::Generator& gen, VulkanBackend& backend, float scale = 1.0f) {
    return raven::uniform(shape, -scale, scale, gen, backend);
}

// --- (a) SGEMM ---

void benchGemm(VulkanBackend& backend, const Options& opt) {
    std::vector<GemmShape> cases = {{1024, 1024, 1024}, {4096, 4096, 4096}, {8192, 8192, 8192}, {4096, 512, 14336}};
    if (opt.smoke) cases = {{64, 64, 64}, {128, 128, 128}, {96, 32, 160}};
    if (!opt.shapes.empty()) cases = opt.shapes;
    raven::Generator gen(1);
    for (const GemmShape& c : cases) {
        const std::string name = c.name();
        const Tensor a = randomTensor({c.m, c.k}, gen, backend);
        const Tensor b = randomTensor({c.k, c.n}, gen, backend);
        Tensor keep;
        const auto work = [&] { keep = backend.matmul(a, b, Tensor()); };
        const double seconds = timeBest(backend, opt, work);
        const double flops = c.flops();
        const std::string variant =
            raven::vkb::describe(raven::vkb::chooseGemmVariant(backend.device().info(), c.m, c.n, c.k, 1));
        result("gemm", name, flops / seconds * 1e-12, "TFLOP/s",
               ", \"ms\": " + std::to_string(seconds * 1e3) + ", \"variant\": \"" + variant + "\"");
        profileOnce(backend, opt, "gemm " + name, work);
        if (opt.verifiable) {
            backend.setKernelMode(raven::KernelMode::Verifiable);
            const double verifiable = timeBest(backend, opt, work);
            backend.setKernelMode(raven::KernelMode::Fast);
            result("gemm_verifiable", name, flops / verifiable * 1e-12, "TFLOP/s",
                   ", \"ms\": " + std::to_string(verifiable * 1e3) +
                       ", \"verifiable_time_ratio\": " + std::to_string(verifiable / seconds));
        }
    }
}

// --- the GEMM variants, one against another ---

// The chosen variant first, then each other tile the device allows, scalar loads, and split-k into
// 1, 2, 4, 8 and 16 slices of at least 256 (each slice a multiple of 64 deep, as chooseSplitK makes them).
std::vector<raven::vkb::GemmVariant> sweepVariants(const raven::vulkan::DeviceInfo& info, int64_t m, int64_t n,
                                                   int64_t k) {
    namespace vkb = raven::vkb;
    const vkb::GemmVariant chosen = vkb::chooseGemmVariant(info, m, n, k, 1);
    std::vector<vkb::GemmVariant> out{chosen};
    const auto add = [&](const vkb::GemmVariant& v) {
        for (const vkb::GemmVariant& seen : out)
            if (vkb::describe(seen) == vkb::describe(v)) return;
        out.push_back(v);
    };
    for (const vkb::GemmTile& tile : vkb::gemmTiles()) {
        if (!vkb::gemmTileAllowed(info, tile)) continue;
        vkb::GemmVariant v = chosen;
        v.tile = tile;
        add(v);
    }
    vkb::GemmVariant scalar = chosen;
    scalar.vectorLoads = false;
    add(scalar);
    for (const int64_t slices : {1, 2, 4, 8, 16}) {
        if (slices > 1 && k / slices < 256) continue;
        vkb::GemmVariant v = chosen;
        v.splitK = {};
        if (slices > 1) {
            const int64_t depth = ((k + slices - 1) / slices + 63) / 64 * 64;
            v.splitK = {static_cast<uint32_t>((k + depth - 1) / depth), depth};
        }
        add(v);
    }
    return out;
}

void benchSweep(VulkanBackend& backend, const Options& opt) {
    std::vector<GemmShape> cases = {{1024, 1024, 1024}, {2048, 2048, 2048}, {4096, 4096, 4096}, {8192, 8192, 8192},
                                    {4096, 512, 14336}, {512, 512, 8192},   {128, 256, 784},    {784, 256, 128}};
    if (opt.smoke) cases = {{96, 64, 1100}, {130, 67, 70}};
    if (!opt.shapes.empty()) cases = opt.shapes;
    Options quick = opt;
    quick.windows = opt.smoke ? 1 : 2;
    raven::Generator gen(3);
    const raven::vulkan::DeviceInfo& info = backend.device().info();
    for (const GemmShape& c : cases) {
        const std::string name = c.name();
        const Tensor a = randomTensor({c.m, c.k}, gen, backend);
        const Tensor b = randomTensor({c.k, c.n}, gen, backend);
        const double flops = c.flops();
        std::vector<float> reference;
        for (const raven::vkb::GemmVariant& v : sweepVariants(info, c.m, c.n, c.k)) {
            Tensor keep;
            const auto work = [&] { keep = raven::vkb::matmulWith(backend, a, b, Tensor(), v); };
            const double seconds = timeBest(backend, quick, work, 1);
            std::string check;
            const std::vector<float> got = keep.toVector();
            // A wrong variant fails the run like a validation message (fp32 tolerance of the tests).
            const auto judge = [&](double nmse, const char* against) {
                char text[32];
                std::snprintf(text, sizeof text, "%.3g", nmse);
                if (nmse <= 1e-7) return std::string(text);
                g_allSane = false;
                std::cerr << "raven-bench-vulkan: sweep " << name << " " << raven::vkb::describe(v)
                          << ": normalized MSE " << text << " against " << against << "\n";
                return std::string(text);
            };
            if (reference.empty()) {
                reference = got;
                if (flops <= 2.0 * 68719476736.0) {  // the CPU reference up to 4096^3
                    const Tensor ca = raven::fromVector(a.shape(), a.toVector());
                    const Tensor cb = raven::fromVector(b.shape(), b.toVector());
                    check =
                        ", \"chosen\": true, \"nmse_vs_cpu\": " +
                        judge(raven::bench::normalizedMse(got, raven::cpuBackend().matmul(ca, cb, Tensor()).toVector()),
                              "the CPU");
                } else {
                    check = ", \"chosen\": true";
                }
            } else {
                check =
                    ", \"nmse_vs_chosen\": " + judge(raven::bench::normalizedMse(got, reference), "the chosen variant");
            }
            result("sweep", name, flops / seconds * 1e-12, "TFLOP/s",
                   ", \"ms\": " + std::to_string(seconds * 1e3) + ", \"variant\": \"" + raven::vkb::describe(v) + "\"" +
                       check);
        }
    }
}

// --- (b) elementwise and the Adam update, beside the copy bandwidth ---

// vkCmdCopyBuffer src -> dst `reps` times in one command buffer (a barrier between copies, since each
// overwrites the last), timed around the submission. Seconds per copy.
double timeCopyBuffer(VulkanBackend& backend, const Tensor& src, const Tensor& dst, int reps) {
    backend.synchronize();
    raven::vulkan::Device& device = backend.device();
    VkCommandBufferAllocateInfo info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    info.commandPool = device.commandPool();
    info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    info.commandBufferCount = 1;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    raven::vulkan::check(vkAllocateCommandBuffers(device.handle(), &info, &cmd), "vkAllocateCommandBuffers");
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    raven::vulkan::check(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
    const auto& s = backend.rangeOf(src);
    const auto& d = backend.rangeOf(dst);
    const VkBufferCopy region{s.offset, d.offset, static_cast<VkDeviceSize>(src.numel()) * sizeof(float)};
    for (int r = 0; r < reps; ++r) {
        if (r > 0) {
            VkMemoryBarrier barrier{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
            barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            barrier.dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &barrier, 0,
                                 nullptr, 0, nullptr);
        }
        vkCmdCopyBuffer(cmd, s.buffer, d.buffer, 1, &region);
    }
    raven::vulkan::check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
    const auto t0 = Clock::now();
    device.submitAndWait(cmd);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    vkFreeCommandBuffers(device.handle(), device.commandPool(), 1, &cmd);
    return seconds / reps;
}

void benchElementwise(VulkanBackend& backend, const Options& opt) {
    const int64_t n = opt.smoke ? (int64_t{1} << 18) : (int64_t{1} << 26);
    const double bytes = 4.0 * static_cast<double>(n);
    raven::Generator gen(2);
    const Tensor a = randomTensor({n}, gen, backend), b = randomTensor({n}, gen, backend);
    const Tensor m = randomTensor({n}, gen, backend, 0.1f);
    const Tensor v = raven::mul(m, m);
    const std::string size = ", \"n\": " + std::to_string(n);

    // The copy bandwidth first: the figure the kernels below are judged against.
    const Tensor dst = backend.empty({n});
    timeCopyBuffer(backend, a, dst, 2);  // warm-up
    double copySeconds = 1e30;
    for (int w = 0; w < opt.windows; ++w)
        copySeconds = std::min(copySeconds, timeCopyBuffer(backend, a, dst, opt.smoke ? 4 : 50));
    result("elementwise", "copy (vkCmdCopyBuffer)", 2 * bytes / copySeconds * 1e-9, "GB/s", size);

    struct Kernel {
        std::string name;
        double accesses;  // floats read and written per element
        std::function<void()> work;
    };
    Tensor keep;
    raven::AdamUpdate keepAdam;
    raven::AdamStepScalars scalars;
    scalars.stepSize = 1e-3f / (1.0f - 0.9f);
    scalars.invSqrtCorrection2 = static_cast<float>(1.0 / std::sqrt(1.0 - 0.999));
    const std::vector<Kernel> kernels = {
        {"copy (shader)", 2, [&] { keep = backend.contiguousCopy(a); }},
        {"add", 3, [&] { keep = backend.binary(raven::BinaryOp::Add, a, b); }},
        {"mul", 3, [&] { keep = backend.binary(raven::BinaryOp::Mul, a, b); }},
        {"gelu", 2, [&] { keep = backend.unary(raven::UnaryOp::GeluErf, a); }},
        {"adam update", 7, [&] { keepAdam = backend.adamUpdate(a, b, m, v, scalars); }},
    };
    for (const Kernel& k : kernels) {
        const double seconds = timeBest(backend, opt, k.work);
        result("elementwise", k.name, k.accesses * bytes / seconds * 1e-9, "GB/s", size);
        profileOnce(backend, opt, "elementwise " + k.name, k.work);
    }
}

// --- (c) training steps ---

struct Net {
    std::vector<Variable> params;
    std::function<Variable(const Variable&)> forward;
    raven::Shape input;
};

Variable parameter(const raven::Shape& shape, int64_t fanIn, raven::Generator& gen, VulkanBackend& backend) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(fanIn));
    return Variable(raven::uniform(shape, -bound, bound, gen, backend), true);
}

Net mlp(int64_t batch, raven::Generator& gen, VulkanBackend& backend) {
    Net net;
    net.input = {batch, 784};
    const int64_t sizes[] = {784, 256, 128, 10};
    for (int l = 0; l < 3; ++l) {
        net.params.push_back(parameter({sizes[l + 1], sizes[l]}, sizes[l], gen, backend));
        net.params.push_back(parameter({sizes[l + 1]}, sizes[l], gen, backend));
    }
    const auto p = net.params;
    net.forward = [p](const Variable& x) {
        Variable h = raven::relu(raven::linear(x, p[0], p[1]));
        h = raven::relu(raven::linear(h, p[2], p[3]));
        return raven::linear(h, p[4], p[5]);
    };
    return net;
}

Net cnn(int64_t batch, raven::Generator& gen, VulkanBackend& backend) {
    Net net;
    net.input = {batch, 1, 28, 28};
    net.params = {parameter({32, 1, 3, 3}, 9, gen, backend),        parameter({32}, 9, gen, backend),
                  parameter({64, 32, 3, 3}, 288, gen, backend),     parameter({64}, 288, gen, backend),
                  parameter({128, 64 * 7 * 7}, 3136, gen, backend), parameter({128}, 3136, gen, backend),
                  parameter({10, 128}, 128, gen, backend),          parameter({10}, 128, gen, backend)};
    const auto p = net.params;
    net.forward = [p](const Variable& x) {
        raven::Conv2dOptions same;
        same.padding = 1;
        Variable h = raven::maxPool2d(raven::relu(raven::conv2d(x, p[0], p[1], same)), 2);
        h = raven::maxPool2d(raven::relu(raven::conv2d(h, p[2], p[3], same)), 2);
        h = raven::relu(raven::linear(raven::flatten(h, 1), p[4], p[5]));
        return raven::linear(h, p[6], p[7]);
    };
    return net;
}

// torch.optim.Adam(lr=1e-3) over the net's parameters, one Backend::adamUpdate per parameter; the new
// values replace the parameters' (as an in-place update would).
class Adam {
public:
    explicit Adam(std::size_t count) : m_(count), v_(count) {}
    void step(VulkanBackend& backend, std::vector<Variable>& params) {
        ++t_;
        raven::AdamStepScalars s;
        s.stepSize = static_cast<float>(1e-3 / (1.0 - std::pow(0.9, t_)));
        s.invSqrtCorrection2 = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(0.999, t_)));
        for (std::size_t i = 0; i < params.size(); ++i) {
            raven::AdamUpdate r = backend.adamUpdate(params[i].tensor(), params[i].grad(), m_[i], v_[i], s);
            params[i].setTensor(r.param);
            params[i].zeroGrad();
            m_[i] = r.expAvg;
            v_[i] = r.expAvgSq;
        }
    }

private:
    std::vector<Tensor> m_, v_;
    double t_ = 0;
};

// One model's training steps in the backend's current kernel mode, reported as `bench`; returns the best
// seconds per step.
double trainModel(VulkanBackend& backend, const Options& opt, const std::string& model, const std::string& bench) {
    const int64_t batch = opt.smoke ? 16 : 128;
    {
        raven::Generator gen(3);
        Net net = model == "mlp" ? mlp(batch, gen, backend) : cnn(batch, gen, backend);
        Adam adam(net.params.size());
        // A few batches of random data of the right shapes, uploaded again every step as a real batch is.
        const int64_t inputNumel = raven::numelOf(net.input);
        std::vector<std::vector<float>> inputs(4, std::vector<float>(static_cast<std::size_t>(inputNumel)));
        std::vector<std::vector<float>> targets(4, std::vector<float>(static_cast<std::size_t>(batch)));
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            for (float& x : inputs[i]) x = gen.nextFloat();
            for (float& y : targets[i]) y = static_cast<float>(gen.nextBelow(10));
        }
        std::size_t next = 0;
        float lastLoss = 0;
        const auto step = [&] {
            const std::size_t i = next++ % inputs.size();
            const Tensor x = backend.upload(net.input, inputs[i].data());
            const Tensor y = backend.upload({batch}, targets[i].data());
            const Variable loss = raven::crossEntropy(net.forward(Variable(x)), y);
            loss.backward();
            adam.step(backend, net.params);
            lastLoss = loss.item();  // the sync point: one submission per step
        };
        // Three steps reach the steady state (optimizer state allocated, command buffers recorded).
        for (int i = 0; i < 3; ++i) step();
        const std::size_t stepsBefore = next;
        const std::size_t submitsBefore = backend.submissionCount();
        const std::size_t recordedBefore = backend.stats().commandBuffersRecorded;
        const double seconds = timeBest(backend, opt, step, opt.smoke ? 1 : 10);
        const double steps = static_cast<double>(std::max<std::size_t>(next - stepsBefore, 1));
        const double perStep = static_cast<double>(backend.submissionCount() - submitsBefore) / steps;
        const double recordedPerStep =
            static_cast<double>(backend.stats().commandBuffersRecorded - recordedBefore) / steps;
        if (!std::isfinite(lastLoss)) {
            g_allSane = false;
            std::cerr << "raven-bench-vulkan: " << model << " loss is " << lastLoss << "\n";
        }
        char extra[200];
        std::snprintf(extra, sizeof extra,
                      ", \"batch\": %lld, \"samples_per_s\": %.1f, \"submits_per_step\": %.2f, "
                      "\"recorded_per_step\": %.2f, \"loss\": %.4f",
                      static_cast<long long>(batch), batch / seconds, perStep, recordedPerStep, lastLoss);
        result(bench, model, 1.0 / seconds, "steps/s", extra);
        profileOnce(backend, opt, bench + " " + model, step);
        return seconds;
    }
}

// With --verifiable, each model's step also in the verifiable kernel mode (every kernel the MLP and the
// CNN run has a verifiable shader), reported as train_verifiable with its time over the fast step's: the
// mode's cost.
void benchTrain(VulkanBackend& backend, const Options& opt) {
    for (const std::string model : {"mlp", "cnn"}) {
        const double fast = trainModel(backend, opt, model, "train");
        if (!opt.verifiable) continue;
        backend.setKernelMode(raven::KernelMode::Verifiable);
        const double verifiable = trainModel(backend, opt, model, "train_verifiable");
        backend.setKernelMode(raven::KernelMode::Fast);
        result("train_verifiable_cost", model, verifiable / fast, "x the fast step's time",
               ", \"fast_ms\": " + std::to_string(fast * 1e3) +
                   ", \"verifiable_ms\": " + std::to_string(verifiable * 1e3));
    }
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);
    try {
        auto instance = std::make_shared<raven::vulkan::Instance>();
        raven::VulkanBackendOptions options;
        options.device.selector = opt.device;
        // Every repetition allocates its output; freed ones wait for the next submission, and past this
        // many bytes the backend submits early, which puts a sync inside a timed window. 4 GiB keeps
        // that to one in 16 products at 8192^2 (the default, at most 1 GiB, would sync every 4).
        if (!opt.smoke) options.maxDeferredBytes = VkDeviceSize{4} << 30;
        int status = 0;
        {
            VulkanBackend backend(instance, options);
            const raven::vulkan::DeviceInfo& info = backend.device().info();
            std::printf("DEVICE %s (driver %s %s)%s\n", info.name.c_str(), info.driverName.c_str(),
                        info.driverInfo.c_str(), opt.smoke ? " [smoke sizes]" : "");
            std::fflush(stdout);
            for (const std::string& what : opt.what) {
                if (what == "gemm") benchGemm(backend, opt);
                if (what == "elementwise") benchElementwise(backend, opt);
                if (what == "train") benchTrain(backend, opt);
                if (what == "sweep") benchSweep(backend, opt);
                if (what == "check") {
                    const int failures =
                        raven::bench::checkAgainstCpu(backend, opt.smoke, [](const raven::bench::CheckRow& row) {
                            std::printf("CHECK %s: normalized MSE %.3g (tolerance %.0e) %s\n", row.name.c_str(),
                                        row.nmse, row.tolerance, row.passed() ? "ok" : "FAILED");
                            std::fflush(stdout);
                        });
                    if (failures > 0) {
                        std::cerr << "raven-bench-vulkan: " << failures << " check(s) FAILED against the CPU backend\n";
                        g_allSane = false;
                    }
                }
            }
            backend.synchronize();
        }
        if (instance->validationMessageCount() > 0) {
            std::cerr << "raven-bench-vulkan: " << instance->validationMessageCount() << " validation message(s):\n";
            for (const std::string& m : instance->validationMessages()) std::cerr << "  " << m << "\n";
            status = 1;
        }
        if (!g_allSane) status = 1;
        return status;
    } catch (const raven::vulkan::NoVulkanDevice& e) {
        std::cerr << "raven-bench-vulkan: no Vulkan device: " << e.what() << "\n";
        return 3;
    } catch (const std::exception& e) {
        std::cerr << "raven-bench-vulkan: " << e.what() << "\n";
        return 1;
    }
}
