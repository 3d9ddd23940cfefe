#pragma once
// The Vulkan backend against the CPU backend on whatever device the benchmark runs on: the test
// suite's checks run on lavapipe in CI, and a GPU machine has no Qt to build the tests with, so
// `raven-bench-vulkan --what check` carries the essential ones there (docs/vulkan.md): GEMM in every
// variant the device allows, elementwise ops on vector runs and on strided views, reductions,
// softmax and cross-entropy, convolution forward and backward (the CNN's split weight gradient
// included), pooling and the Adam update, each on awkward shapes, by normalized MSE; then the verifiable
// mode bit for bit: the op table's verifiable rows, the MLP's products, and one whole verifiable MLP
// work unit's gradient against the CPU's at 1 and 2 threads.
//
//   const int failures = raven::bench::checkAgainstCpu(backend, smoke, printRow);
#include <functional>
#include <string>
#include <vector>

namespace raven {
class VulkanBackend;
}

namespace raven::bench {

// One check's outcome: its name, the normalized MSE against the CPU backend, the tolerance it met or not.
struct CheckRow {
    std::string name;
    double nmse = 0;
    double tolerance = 0;
    bool mismatch = false;  // failed for another reason than the error: shapes, or a bit-exact row's bits
    bool passed() const { return !mismatch && nmse <= tolerance; }
};

// sum (got - want)^2 / sum want^2 (the error alone when want is all zeros); NaN must match NaN, and
// sizes must agree, else infinity. What every check (and the GEMM sweep) is judged by.
double normalizedMse(const std::vector<float>& got, const std::vector<float>& want);

// Runs every check, calling `report` for each; returns how many failed. `smoke`: smaller shapes.
int checkAgainstCpu(VulkanBackend& backend, bool smoke, const std::function<void(const CheckRow&)>& report);

}  // namespace raven::bench
