#include "vulkan/Staging.h"

#include "base/Error.h"
#include "vulkan/Check.h"
#include "vulkan/DeviceInfo.h"
#include "vulkan/Memory.h"

namespace raven::vulkan {

namespace {
constexpr VkDeviceSize kAlignment = 16;
}

StagingRing::StagingRing(VkDevice device, const DeviceInfo& info, VkDeviceSize size) : device_(device), size_(size) {
    RAVEN_ASSERT(size > 0, "a staging ring needs a size");
    VkBufferCreateInfo bufferInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bufferInfo.size = size;
    bufferInfo.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bufferInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(vkCreateBuffer(device_, &bufferInfo, nullptr, &buffer_), "vkCreateBuffer (staging)");

    VkMemoryRequirements requirements{};
    vkGetBufferMemoryRequirements(device_, buffer_, &requirements);
    VkPhysicalDeviceMemoryProperties memory{};
    vkGetPhysicalDeviceMemoryProperties(info.physicalDevice, &memory);
    const std::uint32_t type = findMemoryType(
        memory, requirements.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
        VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (type == UINT32_MAX) {
        vkDestroyBuffer(device_, buffer_, nullptr);
        fail("Vulkan device " + info.name + " offers no host-visible, coherent memory for transfers",
             "pick another device, or use the CPU backend");
    }
    VkMemoryAllocateInfo allocateInfo{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    allocateInfo.allocationSize = requirements.size;
    allocateInfo.memoryTypeIndex = type;
    VkResult result = vkAllocateMemory(device_, &allocateInfo, nullptr, &memory_);
    if (result == VK_SUCCESS) result = vkBindBufferMemory(device_, buffer_, memory_, 0);
    void* mapped = nullptr;
    if (result == VK_SUCCESS) result = vkMapMemory(device_, memory_, 0, VK_WHOLE_SIZE, 0, &mapped);
    if (result != VK_SUCCESS) {
        destroy();
        check(result, "allocating the staging buffer");
    }
    mapped_ = static_cast<std::byte*>(mapped);
}

StagingRing::~StagingRing() { destroy(); }

void StagingRing::destroy() noexcept {
    if (memory_ != VK_NULL_HANDLE) vkFreeMemory(device_, memory_, nullptr);  // unmaps implicitly
    if (buffer_ != VK_NULL_HANDLE) vkDestroyBuffer(device_, buffer_, nullptr);
    memory_ = VK_NULL_HANDLE;
    buffer_ = VK_NULL_HANDLE;
}

std::optional<VkDeviceSize> StagingRing::allocate(VkDeviceSize bytes) {
    const VkDeviceSize offset = (head_ + kAlignment - 1) / kAlignment * kAlignment;
    if (offset > size_ || size_ - offset < bytes) return std::nullopt;
    head_ = offset + bytes;
    return offset;
}

}  // namespace raven::vulkan
