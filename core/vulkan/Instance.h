#pragma once
// The Vulkan instance: Raven's handle on the loader and on every driver of the machine.
//
// One Instance per process is enough; Devices keep a shared_ptr to it, so it lives as long as they do.
// It asks for Vulkan 1.2. With validation on (InstanceOptions::validation, or RAVEN_VULKAN_VALIDATION=1
// in the environment, which the vulkan test label sets), it enables VK_LAYER_KHRONOS_validation with
// synchronization validation and a VK_EXT_debug_utils messenger that records every warning and error
// message. Tests assert validationMessageCount() == 0 at the end of each test: a message is a bug.
//
//   auto instance = std::make_shared<raven::vulkan::Instance>();
//   auto devices = raven::vulkan::listDevices(*instance);      // see DeviceInfo.h
//
// A machine without a Vulkan driver gets NoVulkanDevice, which callers turn into "use the CPU backend".
#include "base/Error.h"

#include <vulkan/vulkan.h>

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace raven::vulkan {

// No Vulkan driver or no usable device: the caller falls back to the CPU backend.
class NoVulkanDevice : public Error {
public:
    using Error::Error;
};

struct InstanceOptions {
    // Enable the Khronos validation layer and record its messages. Unset: on when the environment has
    // RAVEN_VULKAN_VALIDATION=1.
    std::optional<bool> validation;
};

class Instance {
public:
    explicit Instance(const InstanceOptions& options = {});
    ~Instance();
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    VkInstance handle() const noexcept { return instance_; }
    bool validationEnabled() const noexcept { return messenger_ != VK_NULL_HANDLE; }

    // Warnings and errors reported by the validation layer (and the loader) since creation, each as
    // "severity [message id]: text". Always zero/empty without validation.
    std::size_t validationMessageCount() const;
    std::vector<std::string> validationMessages() const;

    // True when RAVEN_VULKAN_VALIDATION is set to something other than "" or "0".
    static bool validationRequestedByEnvironment();

    // Called by the debug messenger; public only so that the C callback can reach it.
    void record(std::string message);

private:
    VkInstance instance_ = VK_NULL_HANDLE;
    VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
    mutable std::mutex mutex_;  // the layer may report from any thread that calls Vulkan
    std::vector<std::string> messages_;
};

}  // namespace raven::vulkan
