#pragma once
// Device memory for tensors: large blocks, sub-allocated, and freed ranges kept for reuse.
//
// Drivers limit the number of vkAllocateMemory calls (4096 on many) and each one is slow, so tensors
// never get their own allocation. MemoryPool takes blocks of blockSize bytes (64 MiB, less on a
// small heap), each one VkDeviceMemory bound to one VkBuffer of storage usage, and hands out aligned
// sub-ranges of that VkBuffer (first fit; see RangeAllocator.h). A tensor is then a BufferRange:
// (VkBuffer of its block, offset, size), bound to shaders with that offset. A request larger than a
// block gets a dedicated block of its own.
//
// A freed range (a dedicated block too) is not merged back at once: it is kept, by size, for the next
// request of the same size, which gets the kept range at the lowest address. The choice depends only
// on which ranges are free, not on the order they were freed in, and training asks for the same sizes
// in the same order every step: every step then gets the same ranges as the step before (or, for state
// that a step replaces, as the one before that). No allocation at all in the steady state, and the
// recorded commands of a step repeat exactly, which is what lets the Recorder resubmit them
// (Recorder.h). Kept ranges go back to their blocks
// (merged, dedicated blocks given back to the driver) when a request would otherwise need a new block
// or the driver refuses one, and on trim().
//
// Not thread-safe: one Device is driven by one thread. Buffers must be destroyed before their Device.
#include "vulkan/RangeAllocator.h"

#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
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
    // Merges the kept ranges back and gives the empty blocks back to the driver.
    void trim();

    // Changes whenever a block (and so its VkBuffer) is given back to the driver: command buffers
    // recorded before then may name a destroyed buffer and must not be submitted again (Recorder.h).
    std::uint64_t generation() const noexcept { return generation_; }

    VkDeviceSize blockSize() const noexcept { return blockSize_; }
    VkDeviceSize alignment() const noexcept { return alignment_; }

    struct Stats {
        std::size_t blocks = 0;            // blocks held now (regular and dedicated)
        std::size_t blockAllocations = 0;  // vkAllocateMemory calls since creation
        std::size_t liveBuffers = 0;
        VkDeviceSize bytesInUse = 0;  // reserved by live buffers, alignment included
        VkDeviceSize bytesKept = 0;   // freed ranges kept for reuse
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
        std::uint64_t id = 0;  // creation order
    };
    struct KeptRange {
        std::uint64_t blockId;  // ordered by block creation, then offset: "the lowest address"
        VkDeviceSize offset;
        Block* block;
        auto operator<=>(const KeptRange&) const = default;
    };
    Block& newBlock(VkDeviceSize size, bool dedicated);
    Block& newBlockOrReleaseKept(VkDeviceSize size, bool dedicated);
    Block* findRoom(VkDeviceSize reserved, std::optional<std::uint64_t>& offset);
    void releaseKept() noexcept;
    void destroy(Block& block) noexcept;
    void release(Block* block, VkDeviceSize offset, VkDeviceSize reserved) noexcept;

    VkDevice device_;
    VkPhysicalDeviceMemoryProperties memoryProperties_{};
    VkDeviceSize blockSize_ = 0;
    VkDeviceSize alignment_ = 0;
    std::vector<std::unique_ptr<Block>> blocks_;
    std::map<VkDeviceSize, std::set<KeptRange>> kept_;  // by reserved size
    VkDeviceSize keptBytes_ = 0;
    std::size_t blockAllocations_ = 0;
    std::size_t liveBuffers_ = 0;
    std::uint64_t generation_ = 0;
    std::uint64_t blocksCreated_ = 0;
};

}  // namespace raven::vulkan
