#include "vulkan/Device.h"

#include "base/Error.h"
#include "vulkan/Check.h"
#include "vulkan/Instance.h"
#include "vulkan/Recorder.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace raven::vulkan {
namespace {

constexpr VkDeviceSize kDefaultStagingSize = 16ull << 20;
// A submission that has not finished after this long is treated as a hung device.
constexpr std::uint64_t kFenceTimeoutNs = 600ull * 1000 * 1000 * 1000;

// A byte count from the environment ("65536", "64K", "128M"); 0 when unset or unreadable.
VkDeviceSize bytesFromEnvironment(const char* name) {
    const char* text = std::getenv(name);
    if (!text || !*text) return 0;
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text, &end, 10);
    const std::string unit = end ? std::string(end) : std::string();
    if (unit.empty()) return value;
    if (unit == "K" || unit == "k") return value << 10;
    if (unit == "M" || unit == "m") return value << 20;
    if (unit == "G" || unit == "g") return value << 30;
    return 0;
}

bool flagFromEnvironment(const char* name, bool fallback) {
    const char* text = std::getenv(name);
    if (!text || !*text) return fallback;
    return std::string(text) != "0";
}

std::string selectorFrom(const DeviceOptions& options) {
    if (!options.selector.empty()) return options.selector;
    const char* env = std::getenv("RAVEN_VULKAN_DEVICE");
    return env ? env : "";
}

}  // namespace

Device::Device(std::shared_ptr<Instance> instance, const DeviceOptions& options) : instance_(std::move(instance)) {
    RAVEN_ASSERT(instance_ != nullptr, "a Device needs an Instance");
    const auto devices = listDevices(*instance_);
    info_ = pick(devices, selectorFrom(options));

    const float priority = 1.0f;
    VkDeviceQueueCreateInfo queueInfo{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    queueInfo.queueFamilyIndex = info_.computeQueueFamily;
    queueInfo.queueCount = 1;
    queueInfo.pQueuePriorities = &priority;

    // Turn on the shader capabilities the device has, so kernels may use them where they exist.
    VkPhysicalDeviceVulkan12Features features12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    features12.shaderFloat16 = info_.shaderFloat16;
    features12.shaderInt8 = info_.shaderInt8;
    features12.storageBuffer8BitAccess = info_.storageBuffer8BitAccess;
    VkPhysicalDeviceVulkan11Features features11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    features11.storageBuffer16BitAccess = info_.storageBuffer16BitAccess;
    features11.pNext = &features12;
    VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    features.features.shaderInt16 = info_.shaderInt16;
    features.features.shaderInt64 = info_.shaderInt64;
    features.features.shaderFloat64 = info_.shaderFloat64;
    features.pNext = &features11;

    VkDeviceCreateInfo deviceInfo{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    deviceInfo.pNext = &features;
    deviceInfo.queueCreateInfoCount = 1;
    deviceInfo.pQueueCreateInfos = &queueInfo;
    check(vkCreateDevice(info_.physicalDevice, &deviceInfo, nullptr, &device_),
          ("vkCreateDevice for " + info_.name).c_str());

    try {
        vkGetDeviceQueue(device_, info_.computeQueueFamily, 0, &queue_);
        VkCommandPoolCreateInfo poolInfo{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
        poolInfo.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
        poolInfo.queueFamilyIndex = info_.computeQueueFamily;
        check(vkCreateCommandPool(device_, &poolInfo, nullptr, &commandPool_), "vkCreateCommandPool");
        VkFenceCreateInfo fenceInfo{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        check(vkCreateFence(device_, &fenceInfo, nullptr, &fence_), "vkCreateFence");

        for (std::size_t axis = 0; axis < 3; ++axis) {
            groupLimit_[axis] = info_.maxComputeWorkGroupCount[axis];
            if (options.maxGroupsPerDispatch > 0)
                groupLimit_[axis] = std::min(groupLimit_[axis], options.maxGroupsPerDispatch);
        }
        memory_ = std::make_unique<MemoryPool>(device_, info_, options.blockSize);
        const VkDeviceSize requested = options.maxBindingBytes > 0
                                           ? options.maxBindingBytes
                                           : bytesFromEnvironment("RAVEN_VULKAN_MAX_BINDING_BYTES");
        maxBindingBytes_ = info_.maxStorageBufferRange;
        if (requested > 0) maxBindingBytes_ = std::min(maxBindingBytes_, std::max(requested, kMinBindingBytes));
        maxBindingBytes_ -= maxBindingBytes_ % memory_->alignment();
        reuseCommandBuffers_ = options.reuseCommandBuffers && flagFromEnvironment("RAVEN_VULKAN_REUSE", true);
        staging_ = std::make_unique<StagingRing>(device_, info_,
                                                 options.stagingSize > 0 ? options.stagingSize : kDefaultStagingSize);
        const std::filesystem::path dir = options.pipelineCacheDir.value_or(PipelineCache::defaultDirectory());
        pipelines_ = std::make_unique<PipelineCache>(
            device_, info_, dir.empty() ? std::filesystem::path() : PipelineCache::fileIn(dir, info_));
    } catch (...) {
        destroy();
        throw;
    }
}

Device::~Device() { destroy(); }

void Device::destroy() noexcept {
    if (device_ == VK_NULL_HANDLE) return;
    vkDeviceWaitIdle(device_);
    pipelines_.reset();
    staging_.reset();
    memory_.reset();
    if (fence_) vkDestroyFence(device_, fence_, nullptr);
    if (commandPool_) vkDestroyCommandPool(device_, commandPool_, nullptr);
    vkDestroyDevice(device_, nullptr);
    device_ = VK_NULL_HANDLE;
}

void Device::submitAndWait(VkCommandBuffer commands) {
    VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
    submit.commandBufferCount = 1;
    submit.pCommandBuffers = &commands;
    check(vkQueueSubmit(queue_, 1, &submit, fence_), "vkQueueSubmit");
    const VkResult waited = vkWaitForFences(device_, 1, &fence_, VK_TRUE, kFenceTimeoutNs);
    if (waited == VK_TIMEOUT)
        fail("Vulkan device " + info_.name + " did not finish a submission within 10 minutes",
             "the device hangs or is far too slow for this work; use another device or the CPU backend");
    check(waited, "vkWaitForFences");
    check(vkResetFences(device_, 1, &fence_), "vkResetFences");
}

void Device::upload(const BufferRange& dst, std::span<const std::byte> data) {
    Recorder recorder(*this);
    recorder.upload(dst, data);
    recorder.submit();
}

void Device::download(const BufferRange& src, std::span<std::byte> out) {
    Recorder recorder(*this);
    recorder.download(src, out);
    recorder.submit();
}

}  // namespace raven::vulkan
