#pragma once
// The host-visible buffer that uploads and downloads pass through.
//
// Device-local memory is usually not mappable, so data goes host -> staging -> (copy command) ->
// device and back. One StagingRing of a fixed size (16 MiB by default) is reused for every transfer:
// a recording takes consecutive slices of it and the whole ring becomes free again once the
// submission that reads or writes those slices has finished (the Recorder resets it after waiting on
// the fence). Transfers larger than the ring are split into ring-sized chunks, with a submission in
// between. It is persistently mapped and host-coherent, cached where the device offers it (fast
// downloads).
#include <vulkan/vulkan.h>

#include <cstddef>
#include <optional>

namespace raven::vulkan {

struct DeviceInfo;

class StagingRing {
public:
    StagingRing(VkDevice device, const DeviceInfo& info, VkDeviceSize size);
    ~StagingRing();
    StagingRing(const StagingRing&) = delete;
    StagingRing& operator=(const StagingRing&) = delete;

    // The offset of `bytes` free bytes (16-byte aligned), or nullopt when the ring is full until reset().
    std::optional<VkDeviceSize> allocate(VkDeviceSize bytes);
    // Everything handed out is free again; only call when no submission uses the ring.
    void reset() noexcept { head_ = 0; }

    // The recording that holds the ring now (nullptr: free). Only one may, since it resets the ring.
    const void* owner() const noexcept { return owner_; }
    void setOwner(const void* owner) noexcept { owner_ = owner; }

    VkBuffer buffer() const noexcept { return buffer_; }
    std::byte* mapped() const noexcept { return mapped_; }
    VkDeviceSize size() const noexcept { return size_; }
    VkDeviceSize used() const noexcept { return head_; }

private:
    void destroy() noexcept;

    VkDevice device_;
    VkBuffer buffer_ = VK_NULL_HANDLE;
    VkDeviceMemory memory_ = VK_NULL_HANDLE;
    std::byte* mapped_ = nullptr;
    VkDeviceSize size_ = 0;
    VkDeviceSize head_ = 0;
    const void* owner_ = nullptr;
};

}  // namespace raven::vulkan
