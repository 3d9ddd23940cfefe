// raven devices [--check]: the compute devices Raven can use, and for each usable Vulkan device whether
// it may take verifiable work units (the device gate, vulkan/VerifiableGate.h). With --check, each
// usable Vulkan device also runs vector addition and its result is compared with the CPU's.
#include <QCommandLineParser>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "AppInfo.h"
#include "Commands.h"
#include "vulkan/Device.h"
#include "vulkan/DeviceInfo.h"
#include "vulkan/Instance.h"
#include "vulkan/VectorAdd.h"
#include "vulkan/VerifiableGate.h"

namespace raven::cli {

namespace {

// Adds two random vectors on the device and compares with the CPU; returns whether they agree.
bool checkDevice(const std::shared_ptr<vulkan::Instance>& instance, const vulkan::DeviceInfo& info) {
    const std::size_t n = 1 << 20;
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    std::vector<float> a(n), b(n);
    for (std::size_t i = 0; i < n; ++i) {
        a[i] = dist(rng);
        b[i] = dist(rng);
    }
    vulkan::Device device(instance, {.selector = std::to_string(info.index)});
    const std::vector<float> sum = vulkan::vectorAdd(device, a, b);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < n; ++i) wrong += (sum[i] != a[i] + b[i]) ? 1 : 0;
    std::printf("check %s: vector_add of %zu floats on the device %s the CPU (%zu differ)\n", info.name.c_str(), n,
                wrong == 0 ? "equals" : "DIFFERS FROM", wrong);
    return wrong == 0;
}

// The device gate of the verifiable kernel mode, as one line per device.
void printVerifiableGate(const std::shared_ptr<vulkan::Instance>& instance, const vulkan::DeviceInfo& info) {
    try {
        vulkan::Device device(instance, {.selector = std::to_string(info.index)});
        std::printf("%s: %s\n", info.name.c_str(), vulkan::checkVerifiableGate(device).summary().c_str());
    } catch (const std::exception& e) {
        std::printf("%s: verifiable units: no (the gate could not run: %s)\n", info.name.c_str(), e.what());
    }
}

}  // namespace

int devicesCommand(const QStringList& args) {
    QCommandLineParser parser;
    app::addStandardOptions(parser, "List the compute devices Raven can use: Vulkan devices and the CPU.");
    const QCommandLineOption check("check",
                                   "Run a compute shader on each usable Vulkan device and compare with the CPU.");
    parser.addOption(check);
    parser.process(args);

    bool allGood = true;
    try {
        auto instance = std::make_shared<vulkan::Instance>();
        const auto devices = vulkan::listDevices(*instance);
        std::printf("%s", vulkan::describeDevices(devices).c_str());
        for (const auto& info : devices)
            if (info.usable) printVerifiableGate(instance, info);
        if (parser.isSet(check)) {
            for (const auto& info : devices) {
                if (info.usable) allGood = checkDevice(instance, info) && allGood;
            }
        }
        if (instance->validationEnabled() && instance->validationMessageCount() > 0) {
            for (const auto& m : instance->validationMessages()) std::fprintf(stderr, "validation: %s\n", m.c_str());
            allGood = false;
        }
    } catch (const vulkan::NoVulkanDevice& e) {
        std::printf("No Vulkan device: %s\n", e.what());
    }
    std::printf("CPU: %u hardware threads (the CPU backend; verifiable units: yes)\n",
                std::thread::hardware_concurrency());
    return allGood ? 0 : 1;
}

}  // namespace raven::cli
