#pragma once
// Which backend a command computes on, from `--device`: "cpu", "vulkan" (the best Vulkan device) or
// "vulkan:N" / "vulkan:NAME" (by index or name substring, as `raven devices` lists them). Without a
// usable Vulkan device, "vulkan" falls back to the CPU with a note on stderr.
#include <QString>
#include <memory>

#include "tensor/Backend.h"

namespace raven::cli {

class ComputeDevice {
public:
    explicit ComputeDevice(const QString& selector);
    // Prints what the Vulkan validation layer reported, when it is on (RAVEN_VULKAN_VALIDATION=1).
    ~ComputeDevice();
    ComputeDevice(const ComputeDevice&) = delete;
    ComputeDevice& operator=(const ComputeDevice&) = delete;
    Backend& backend() { return owned_ ? *owned_ : *cpu_; }
    // "CPU (2 threads)" or the Vulkan device's name.
    const std::string& description() const { return description_; }

private:
    std::unique_ptr<Backend> owned_;
    Backend* cpu_ = nullptr;
    std::string description_;
};

}  // namespace raven::cli
