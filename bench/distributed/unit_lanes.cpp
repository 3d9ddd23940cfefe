// raven-bench-unit-lanes: is a CPU worker faster computing two work units side by side with half its
// threads each, or one after another with all of them? (issue 17 item 2: "units of one lease computed
// in parallel where the device has room"; core/worker/ComputeLanes.h decides from these figures.)
//
//   raven-bench-unit-lanes [--spec examples/mlp.json] [--samples 512] [--threads N] [--rounds 6]
//
// Each round computes, on the same random samples (the arithmetic's cost does not depend on their
// values), two units' summed-loss gradients (training::computeGradientSums, what a worker does per
// unit) both ways, alternating which goes first: "one after another" on one CpuBackend with N
// threads, "side by side" on two CpuBackends of N/2 threads each, on two threads of their own. It
// prints the samples/s of each way per round, and the median of each.
#include <QCoreApplication>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cpu/CpuBackend.h"
#include "data/Normalization.h"
#include "data/Samples.h"
#include "nn/Model.h"
#include "training/ShardGradient.h"

using namespace raven;

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point from) { return std::chrono::duration<double>(Clock::now() - from).count(); }

data::Samples randomSamples(const nn::ModelSpec& spec, std::int64_t count, int classes) {
    data::Shape shape(spec.inputShape.begin(), spec.inputShape.end());
    data::Samples samples(shape, {});
    const std::int64_t size = data::elementCount(shape);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> value(0.0f, 1.0f);
    std::uniform_int_distribution<std::int32_t> label(0, classes - 1);
    std::vector<float> features(static_cast<std::size_t>(count * size));
    std::vector<std::int32_t> labels(static_cast<std::size_t>(count));
    for (float& f : features) f = value(rng);
    for (auto& l : labels) l = label(rng);
    samples.assign(std::move(features), std::move(labels));
    return samples;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    std::string specPath = std::string(RAVEN_EXAMPLES_DIR) + "/mlp.json";
    std::int64_t count = 512;
    int threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
    int rounds = 6;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string option = argv[i], value = argv[i + 1];
        if (option == "--spec")
            specPath = value;
        else if (option == "--samples")
            count = std::stoll(value);
        else if (option == "--threads")
            threads = std::stoi(value);
        else if (option == "--rounds")
            rounds = std::stoi(value);
        else {
            std::fprintf(stderr, "unknown option %s (see the header of bench/distributed/unit_lanes.cpp)\n", argv[i]);
            return 2;
        }
    }
    if (threads < 2 || count < 1 || rounds < 1) {
        std::fprintf(stderr,
                     "--threads wants at least 2 (two lanes of half each), --samples and --rounds at least 1\n");
        return 2;
    }
    const nn::ModelSpec spec = nn::ModelSpec::load(specPath);
    const data::Samples samples = randomSamples(spec, count, 10);
    const data::Normalization none;

    CpuBackend all(threads);
    CpuBackend halfA(threads / 2), halfB(threads - threads / 2);
    nn::Model whole(spec, all), laneA(spec, halfA), laneB(spec, halfB);
    // Warm-up: buffers allocated, pools started.
    training::computeGradientSums(whole, samples, none);
    training::computeGradientSums(laneA, samples, none);
    training::computeGradientSums(laneB, samples, none);

    auto oneAfterAnother = [&] {
        const auto t0 = Clock::now();
        training::computeGradientSums(whole, samples, none);
        training::computeGradientSums(whole, samples, none);
        return 2.0 * static_cast<double>(count) / seconds(t0);
    };
    auto sideBySide = [&] {
        const auto t0 = Clock::now();
        std::thread other([&] { training::computeGradientSums(laneB, samples, none); });
        training::computeGradientSums(laneA, samples, none);
        other.join();
        return 2.0 * static_cast<double>(count) / seconds(t0);
    };
    std::printf(
        "%s, %lld samples a unit, %d threads: two units one after another (%d threads) or side by side "
        "(%d + %d threads)\n",
        specPath.c_str(), static_cast<long long>(count), threads, threads, threads / 2, threads - threads / 2);
    std::printf("| round | one after another (samples/s) | side by side (samples/s) |\n| --- | --- | --- |\n");
    std::vector<double> serial, parallel;
    for (int r = 0; r < rounds; ++r) {
        double s = 0, p = 0;
        if (r % 2 == 0) {
            s = oneAfterAnother();
            p = sideBySide();
        } else {
            p = sideBySide();
            s = oneAfterAnother();
        }
        serial.push_back(s);
        parallel.push_back(p);
        std::printf("| %d | %.0f | %.0f |\n", r + 1, s, p);
    }
    std::printf("| median | %.0f | %.0f |\nside by side / one after another: %.2f\n", median(serial), median(parallel),
                median(parallel) / median(serial));
    return 0;
}
