#pragma once
// A Vulkan device ready for compute: the context every Vulkan kernel runs in.
//
// A Device owns the logical device with one compute queue, a command pool and a fence, the memory
// pool that tensors live in (Memory.h), the staging ring for transfers (Staging.h) and the pipeline
// cache (Pipeline.h). Work is recorded with a Recorder (Recorder.h) and submitted once; upload() and
// download() are one-transfer conveniences on top of it.
//
//   auto instance = std::make_shared<Instance>();
//   Device device(instance, {.selector = "llvmpipe"});
//   Buffer x = device.createBuffer(n * sizeof(float));
//   device.upload(x.range(), values);
//   ...
//   device.download(x.range(), result);
//
// Everything is synchronous: a submission is waited for before the call returns, so buffers may be
// reused or destroyed right after. A Device is used from one thread at a time. Destroy every Buffer
// and Recorder before its Device.
#include "vulkan/DeviceInfo.h"
#include "vulkan/Memory.h"
#include "vulkan/Pipeline.h"
#include "vulkan/Staging.h"

#include <vulkan/vulkan.h>

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace raven::vulkan {

class Instance;

struct DeviceOptions {
    // Index ("1") or name substring ("llvmpipe"); empty = $RAVEN_VULKAN_DEVICE, else the best device.
    std::string selector;
    // Where the pipeline cache file lives. Unset = PipelineCache::defaultDirectory(); an empty path =
    // no file (compile every run).
    std::optional<std::filesystem::path> pipelineCacheDir;
    VkDeviceSize blockSize = 0;    // memory pool block; 0 = 64 MiB or less on a small heap
    VkDeviceSize stagingSize = 0;  // staging ring; 0 = 16 MiB
    // Largest workgroup count per dimension in one vkCmdDispatch; 0 = the device's limit. Tests lower
    // it to exercise the split into several dispatches that large tensors need.
    std::uint32_t maxGroupsPerDispatch = 0;
    // Largest byte range of one storage-buffer binding; 0 = $RAVEN_VULKAN_MAX_BINDING_BYTES, else the
    // device's maxStorageBufferRange. Only lowers the device's limit, never below kMinBindingBytes.
    // Tests lower it so that small tensors take the path that splits operands too large for one
    // binding (every real device allows at least 128 MiB, so that path is otherwise hard to reach).
    VkDeviceSize maxBindingBytes = 0;
    // Keep recorded command buffers and submit them again when the same work is recorded again (see
    // Recorder.h). Off with $RAVEN_VULKAN_REUSE=0, for comparisons.
    bool reuseCommandBuffers = true;
};

// The smallest binding limit a test may set: every kernel's unit of work (a reduction chunk of 4096
// floats, a GEMM tile row) fits in it.
inline constexpr VkDeviceSize kMinBindingBytes = VkDeviceSize{64} << 10;

class Device {
public:
    // Picks a device (see pick() in DeviceInfo.h) and opens it. Throws NoVulkanDevice when there is
    // none and raven::Error when the selected device cannot be opened.
    explicit Device(std::shared_ptr<Instance> instance, const DeviceOptions& options = {});
    ~Device();
    Device(const Device&) = delete;
    Device& operator=(const Device&) = delete;

    const DeviceInfo& info() const noexcept { return info_; }
    Instance& instance() const noexcept { return *instance_; }
    VkDevice handle() const noexcept { return device_; }
    VkQueue queue() const noexcept { return queue_; }
    VkCommandPool commandPool() const noexcept { return commandPool_; }

    MemoryPool& memory() noexcept { return *memory_; }
    StagingRing& staging() noexcept { return *staging_; }
    PipelineCache& pipelines() noexcept { return *pipelines_; }

    // A device-local storage buffer of `bytes` bytes from the memory pool.
    Buffer createBuffer(VkDeviceSize bytes) { return memory_->allocate(bytes); }

    // Copies host data into dst (dst.size must equal the data's size) and waits for it.
    void upload(const BufferRange& dst, std::span<const std::byte> data);
    void upload(const BufferRange& dst, std::span<const float> data) { upload(dst, std::as_bytes(data)); }
    // Copies src to host memory (src.size must equal out's size) and waits for it.
    void download(const BufferRange& src, std::span<std::byte> out);
    void download(const BufferRange& src, std::span<float> out) { download(src, std::as_writable_bytes(out)); }

    // Submits one ended command buffer and waits for it on the device's fence.
    void submitAndWait(VkCommandBuffer commands);

    // The most workgroups one vkCmdDispatch may have along axis 0..2 (see DeviceOptions).
    std::uint32_t maxGroupsPerDispatch(int axis) const noexcept { return groupLimit_[static_cast<std::size_t>(axis)]; }
    // The largest byte range one storage-buffer binding may have (maxStorageBufferRange or the lower
    // limit of DeviceOptions), a multiple of bindingAlignment().
    VkDeviceSize maxBindingBytes() const noexcept { return maxBindingBytes_; }
    // Binding offsets are multiples of this (minStorageBufferOffsetAlignment, and at least 16 so that
    // every binding may be read as vec4s); the memory pool aligns every buffer to it.
    VkDeviceSize bindingAlignment() const noexcept { return memory_->alignment(); }
    bool reuseCommandBuffers() const noexcept { return reuseCommandBuffers_; }

private:
    void destroy() noexcept;

    std::shared_ptr<Instance> instance_;
    DeviceInfo info_;
    VkDevice device_ = VK_NULL_HANDLE;
    VkQueue queue_ = VK_NULL_HANDLE;
    VkCommandPool commandPool_ = VK_NULL_HANDLE;
    VkFence fence_ = VK_NULL_HANDLE;
    std::array<std::uint32_t, 3> groupLimit_{};
    VkDeviceSize maxBindingBytes_ = 0;
    bool reuseCommandBuffers_ = true;
    std::unique_ptr<MemoryPool> memory_;
    std::unique_ptr<StagingRing> staging_;
    std::unique_ptr<PipelineCache> pipelines_;
};

}  // namespace raven::vulkan
