// raven-bench-train-cpu: how fast the CPU backend trains, measured the way torch_peer.py measures PyTorch.
//
//   raven-bench-train-cpu --what mlp|cnn|gemm [--data DIR] [--threads N] [--steps S] [--windows W]
//                         [--warmup N] [--spec FILE] [--mode fast|verifiable|both] [--smoke]
//
// One measurement per process, so that the peak resident set (VmHWM) belongs to that measurement:
//  - mlp, cnn: examples/mlp.json or cnn.json (or --spec) trained with Adam (lr 1e-3) at batch 128 on
//    Fashion-MNIST, as `raven train --local` does: each step builds a normalized batch from a seeded
//    permutation (data::makeBatch), uploads it, runs forward, loss, backward and the optimizer step.
//    After `warmup` steps, `windows` windows of `steps` steps are timed (each ends with a read of the
//    loss, the sync point); the best window and the median are reported.
//  - gemm: C = A B with A, B 2048x2048 through Backend::matmul (the path Linear and the benchmarks'
//    models use), best of several runs, in GFLOP/s.
// --mode picks the kernel mode (tensor/KernelMode.h); `both` alternates the two window by window in
// the same process (the machine's load falls on both alike) and reports the verifiable mode's rate and
// its time per step relative to the fast mode's (docs/benchmarks.md, "Verifiable kernels").
// The result is one line: RESULT {json}, which run.sh reads. --smoke: a few steps, for the test suite.
#include <QCoreApplication>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ProcessMemory.h"
#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "data/Batch.h"
#include "data/IdxImporter.h"
#include "data/Split.h"
#include "nn/Model.h"
#include "nn/Optimizer.h"
#include "tensor/Random.h"

namespace {

using Clock = std::chrono::steady_clock;
using raven::Tensor;

struct Options {
    std::string what;
    std::string data = "/usr/share/datasets/fashion-mnist";
    std::string spec;
    int threads = 0;  // 0: the backend's default
    int steps = 100;
    int windows = 5;
    int warmup = 10;
    int64_t batch = 128;
    int64_t gemmSize = 2048;
    bool smoke = false;
    std::string mode = "fast";  // fast, verifiable or both
};

[[noreturn]] void usage(const std::string& problem) {
    std::cerr << "raven-bench-train-cpu: " << problem << "\n"
              << "usage: raven-bench-train-cpu --what mlp|cnn|gemm [--data DIR] [--threads N] [--steps S]\n"
              << "       [--windows W] [--warmup N] [--batch B] [--gemm-size N] [--spec FILE]\n"
              << "       [--mode fast|verifiable|both] [--smoke]\n";
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options o;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) usage(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    auto number = [&](int& i) -> int64_t {
        const std::string flag = argv[i], text = value(i);
        char* end = nullptr;
        const long long n = std::strtoll(text.c_str(), &end, 10);
        if (end == text.c_str() || *end != '\0' || n < 0) usage(flag + " takes a non-negative integer, not " + text);
        return n;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--what")
            o.what = value(i);
        else if (a == "--data")
            o.data = value(i);
        else if (a == "--spec")
            o.spec = value(i);
        else if (a == "--threads")
            o.threads = static_cast<int>(number(i));
        else if (a == "--steps")
            o.steps = static_cast<int>(number(i));
        else if (a == "--windows")
            o.windows = static_cast<int>(number(i));
        else if (a == "--warmup")
            o.warmup = static_cast<int>(number(i));
        else if (a == "--batch")
            o.batch = number(i);
        else if (a == "--gemm-size")
            o.gemmSize = number(i);
        else if (a == "--mode")
            o.mode = value(i);
        else if (a == "--smoke")
            o.smoke = true;
        else
            usage("unknown argument " + a);
    }
    if (o.what != "mlp" && o.what != "cnn" && o.what != "gemm") usage("--what must be mlp, cnn or gemm");
    if (o.mode != "fast" && o.mode != "verifiable" && o.mode != "both") usage("--mode must be fast, verifiable or both");
    if (o.smoke) {
        o.steps = 3;
        o.windows = 2;
        o.warmup = 1;
        o.gemmSize = 256;
    }
    if (o.steps < 1 || o.windows < 1 || o.batch < 1 || o.gemmSize < 1) usage("counts must be at least 1");
    return o;
}

double seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string jsonList(const std::vector<double>& v) {
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
    s << "]";
    return s.str();
}

// The GEMM FLOPs of one training sample: forward, weight gradient and input gradient (each a
// forward's worth, hence 3x), less the input gradient of the first layer, which no framework
// computes because nothing needs it. The same count for ours and the peer; it is the work the
// hardware's SGEMM rate bounds.
double trainingGemmFlops(const raven::nn::Architecture& arch) {
    double firstWeighted = 0.0;
    for (const auto* layer : arch.allLayers()) {
        if (layer->forwardFlops() > 0.0 && !layer->parameters().empty()) {
            firstWeighted = layer->forwardFlops();
            break;
        }
    }
    return 3.0 * arch.forwardFlopsPerSample() - firstWeighted;
}

void runGemm(const Options& o, std::ostream& result) {
    raven::Backend& backend = raven::cpuBackend();
    raven::Generator gen(7);
    const int64_t n = o.gemmSize;
    const Tensor a = raven::randn({n, n}, gen, backend), b = raven::randn({n, n}, gen, backend);
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    (void)backend.matmul(a, b, Tensor());  // warm-up: page in, let the BLAS set up its buffers
    std::vector<double> rates;
    const int runs = o.smoke ? 2 : 7;
    for (int r = 0; r < runs; ++r) {
        const auto t0 = Clock::now();
        const Tensor c = backend.matmul(a, b, Tensor());
        backend.synchronize();
        rates.push_back(flops / seconds(t0) / 1e9);
    }
    result << "\"size\": " << n << ", \"gflops\": " << *std::max_element(rates.begin(), rates.end())
           << ", \"gflops_median\": " << median(rates) << ", \"gflops_runs\": " << jsonList(rates);
}

void runTraining(const Options& o, std::ostream& result) {
    namespace nn = raven::nn;
    namespace data = raven::data;
    const std::string specPath = o.spec.empty() ? std::string(RAVEN_EXAMPLES_DIR) + "/" + o.what + ".json" : o.spec;
    const data::Dataset ds = data::importIdxDirectory(QString::fromStdString(o.data));
    nn::Model model(nn::ModelSpec::load(specPath));
    nn::OptimizerConfig config;  // Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8: torch.optim.Adam's defaults
    auto optimizer = nn::makeOptimizer(config, model.parameterNames());
    raven::Backend& backend = model.backend();
    const int64_t n = ds.train.count();
    const std::vector<int64_t> order = data::seededPermutation(n, 1);
    int64_t cursor = 0;
    const double rssBefore = raven::bench::residentMiB();

    float lastLoss = 0.0f;
    auto step = [&]() -> Tensor {
        if (cursor + o.batch > n) cursor = 0;
        const data::Batch batch = data::makeBatch(
            ds.train, std::span<const int64_t>(order.data() + cursor, static_cast<size_t>(o.batch)), ds.normalization);
        cursor += o.batch;
        const Tensor x = backend.upload(batch.xShape, batch.x.data());
        const std::vector<float> labels(batch.y.begin(), batch.y.end());
        const Tensor y = backend.upload(batch.yShape, labels.data());
        model.zeroGrad();
        const raven::Variable loss = model.loss(model.forward(x), y);
        loss.backward();
        optimizer->step(model.parameterTensors(), model.gradients());
        return loss.tensor();
    };

    const bool both = o.mode == "both";
    const raven::KernelMode first = o.mode == "verifiable" ? raven::KernelMode::Verifiable : raven::KernelMode::Fast;
    backend.setKernelMode(first);
    for (int i = 0; i < o.warmup; ++i) lastLoss = step().item();
    if (both) {
        backend.setKernelMode(raven::KernelMode::Verifiable);
        for (int i = 0; i < o.warmup; ++i) lastLoss = step().item();
    }
    std::vector<double> rates, verifiableRates;
    auto window = [&](std::vector<double>& into) {
        const auto t0 = Clock::now();
        Tensor loss;
        for (int i = 0; i < o.steps; ++i) loss = step();
        lastLoss = loss.item();  // the sync point of a lazy backend
        into.push_back(static_cast<double>(o.steps * o.batch) / seconds(t0));
    };
    for (int w = 0; w < o.windows; ++w) {
        backend.setKernelMode(first);
        window(rates);
        if (both) {
            backend.setKernelMode(raven::KernelMode::Verifiable);
            window(verifiableRates);
        }
    }
    const double flops = trainingGemmFlops(model.architecture());
    if (both) {
        const double fastBest = *std::max_element(rates.begin(), rates.end());
        const double verifiableBest = *std::max_element(verifiableRates.begin(), verifiableRates.end());
        result << "\"verifiable_samples_per_s\": " << verifiableBest
               << ", \"verifiable_samples_per_s_median\": " << median(verifiableRates)
               << ", \"verifiable_samples_per_s_runs\": " << jsonList(verifiableRates)
               << ", \"verifiable_time_ratio\": " << fastBest / verifiableBest
               << ", \"verifiable_time_ratio_median\": " << median(rates) / median(verifiableRates) << ", ";
    }
    result << "\"mode\": \"" << o.mode << "\", ";
    result << "\"model\": \"" << model.spec().name << "\", \"batch\": " << o.batch << ", \"steps\": " << o.steps
           << ", \"samples_per_s\": " << *std::max_element(rates.begin(), rates.end())
           << ", \"samples_per_s_median\": " << median(rates) << ", \"samples_per_s_runs\": " << jsonList(rates)
           << ", \"train_gemm_flops_per_sample\": " << flops
           << ", \"parameters\": " << model.architecture().parameterCount() << ", \"last_loss\": " << lastLoss
           << ", \"rss_before_training_mib\": " << rssBefore;
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);  // core/data reads files through Qt
    const Options o = parse(argc, argv);
    try {
        raven::CpuBackend& cpu = raven::cpuBackendInstance();
        if (o.threads > 0) cpu.setThreadCount(o.threads);
        std::ostringstream result;
        result << "{\"framework\": \"raven\", \"what\": \"" << o.what << "\", \"threads\": " << cpu.threadCount()
               << ", \"gemm\": \"" << cpu.gemmName() << "\", ";
        if (o.what == "gemm") {
            if (o.mode == "both") throw raven::Error("--what gemm measures one mode at a time: use --mode fast or verifiable");
            cpu.setKernelMode(o.mode == "verifiable" ? raven::KernelMode::Verifiable : raven::KernelMode::Fast);
            runGemm(o, result);
        }
        else
            runTraining(o, result);
        result << ", \"peak_rss_mib\": " << raven::bench::peakResidentMiB() << "}";
        std::cout << "RESULT " << result.str() << std::endl;
    } catch (const raven::Error& e) {
        std::cerr << "raven-bench-train-cpu: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
