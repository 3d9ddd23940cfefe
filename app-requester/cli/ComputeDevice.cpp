#include "ComputeDevice.h"

#include <cstdio>

#include "base/Error.h"
#include "cpu/CpuBackend.h"
#include "vulkan/Instance.h"
#include "vulkan/backend/VulkanBackend.h"

namespace raven::cli {

ComputeDevice::ComputeDevice(const QString& selector) {
    const auto useCpu = [this] {
        cpu_ = &cpuBackendInstance();
        description_ = "CPU (" + std::to_string(cpuBackendInstance().threadCount()) + " threads)";
    };
    if (selector == "cpu") {
        useCpu();
        return;
    }
    RAVEN_CHECK(selector == "vulkan" || selector.startsWith("vulkan:"),
                "unknown device '" + selector.toStdString() + "'",
                "use cpu, vulkan, or vulkan:N with N from `raven devices`");
    const std::string which = selector == "vulkan" ? std::string() : selector.mid(7).toStdString();
    try {
        owned_ = makeVulkanBackend(which);
        description_ = owned_->name();
    } catch (const vulkan::NoVulkanDevice& e) {
        // Asked for "any GPU": the CPU still trains. A named device that is missing is an error.
        if (!which.empty()) throw;
        std::fprintf(stderr, "note: %s\n", e.what());
        useCpu();
    }
}

ComputeDevice::~ComputeDevice() {
    auto* vulkan = dynamic_cast<VulkanBackend*>(owned_.get());
    if (!vulkan) return;
    vulkan->synchronize();
    for (const auto& m : vulkan->instance().validationMessages()) std::fprintf(stderr, "validation: %s\n", m.c_str());
}

}  // namespace raven::cli
