#pragma once
// Device memory for tensors: large blocks, sub-allocated.
//
// Drivers limit the number of vkAllocateMemory calls (4096 on many) and each one is slow, so tensors
// never get their own allocation. MemoryPool takes blocks of blockSize bytes (64 MiB, less on a
// small heap), each one VkDeviceMemory bound to one VkBuffer of storage usage, and hands out aligned
// sub-ranges of that VkBuffer (first fit, merged on free; see RangeAllocator.h). A tensor is then a
// BufferRange: (VkBuffer of its block, offset, size), bound to shaders with that offset. A request
// larger than a block gets a dedicated block of its own, given back as soon as it is freed; regular
// blocks stay for reuse until trim(). In the steady state of training (same tensors every step)
// no memory is allocated at all.
//
// Not thread-safe: one Device is driven by one thread. Buffers must be destroyed before their Device.
#include "vulkan/RangeAllocator.h"

#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace raven::vulkan {

struct DeviceInfo;
class MemoryPool;

// A byte range of a VkBuffer: what a shader binding or a copy refers to.
struct BufferRange {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceSize offset = 0;
    VkDeviceSize size = 0;

    // Both ranges are in the same VkBuffer and share at least one byte.
    bool overlaps(const BufferRange& other) const noexcept {
        return buffer == other.buffer && offset < other.offset + other.size && other.offset < offset + size;
    }
};

// A device-local storage buffer of `size` bytes, owned: it returns its range to the pool when
// destroyed. Move-only.
class Buffer {
public:
    Buffer() = default;
    Buffer(Buffer&& other) noexcept;
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer();

    bool valid() const noexcept { return pool_ != nullptr; }
    VkDeviceSize size() const noexcept { return range_.size; }
    // The whole buffer.
    const BufferRange& range() const noexcept { return range_; }
    // Bytes [offset, offset + size) of this buffer. As a shader binding, offset must be a multiple
    // of the device's minStorageBufferOffsetAlignment (checked when bound).
    BufferRange range(VkDeviceSize offset, VkDeviceSize size) const;

private:
    friend class MemoryPool;
    Buffer(MemoryPool* pool, void* block, BufferRange range, VkDeviceSize reserved) noexcept
        : pool_(pool), block_(block), range_(range), reserved_(reserved) {}
    void release() noexcept;

    MemoryPool* pool_ = nullptr;
    void* block_ = nullptr;  // the pool's block this range lives in
    BufferRange range_;
    VkDeviceSize reserved_ = 0;  // size rounded up to the pool's alignment
};

// The index of a memory type allowed by `typeBits` with all `required` flags, preferring one that also
// has `preferred`; UINT32_MAX when none.
std::uint32_t findMemoryType(const VkPhysicalDeviceMemoryProperties& memory, std::uint32_t typeBits,
                             VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred);

class MemoryPool {
public:
    // blockSize 0 = 64 MiB, or less so that a block is at most 1/8 of the device-local memory and
    // within maxMemoryAllocationSize.
    MemoryPool(VkDevice device, const DeviceInfo& info, VkDeviceSize blockSize = 0);
    ~MemoryPool();
    MemoryPool(const MemoryPool&) = delete;
    MemoryPool& operator=(const MemoryPool&) = delete;

    // A buffer of `bytes` (> 0) bytes whose offset is aligned for storage-buffer binding.
    Buffer allocate(VkDeviceSize bytes);
    // Gives the empty regular blocks back to the driver.
    void trim();

    VkDeviceSize blockSize() const noexcept { return blockSize_; }
    VkDeviceSize alignment() const noexcept { return alignment_; }

    struct Stats {
        std::size_t blocks = 0;            // blocks held now (regular and dedicated)
        std::size_t blockAllocations = 0;  // vkAllocateMemory calls since creation
        std::size_t liveBuffers = 0;
        VkDeviceSize bytesInUse = 0;  // reserved by live buffers, alignment included
        VkDeviceSize bytesHeld = 0;   // in all blocks
    };
    Stats stats() const;

private:
    friend class Buffer;
    struct Block {
        VkBuffer buffer = VK_NULL_HANDLE;
        VkDeviceMemory memory = VK_NULL_HANDLE;
        RangeAllocator ranges;
        bool dedicated = false;
    };
    Block& newBlock(VkDeviceSize size, bool dedicated);
    void destroy(Block& block) noexcept;
    void release(Block* block, VkDeviceSize offset, VkDeviceSize reserved) noexcept;

    VkDevice device_;
    VkPhysicalDeviceMemoryProperties memoryProperties_{};
    VkDeviceSize blockSize_ = 0;
    VkDeviceSize alignment_ = 0;
    std::vector<std::unique_ptr<Block>> blocks_;
    std::size_t blockAllocations_ = 0;
    std::size_t liveBuffers_ = 0;
};

}  // namespace raven::vulkan
