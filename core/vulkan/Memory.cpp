#include "vulkan/Memory.h"

#include "base/Error.h"
#include "vulkan/Check.h"
#include "vulkan/DeviceInfo.h"

#include <algorithm>
#include <utility>

namespace raven::vulkan {

namespace {
constexpr VkDeviceSize kDefaultBlockSize = 64ull << 20;
constexpr VkDeviceSize kMinBlockSize = 1ull << 20;
}  // namespace

Buffer::Buffer(Buffer&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      block_(std::exchange(other.block_, nullptr)),
      range_(std::exchange(other.range_, {})),
      reserved_(std::exchange(other.reserved_, 0)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
    if (this != &other) {
        release();
        pool_ = std::exchange(other.pool_, nullptr);
        block_ = std::exchange(other.block_, nullptr);
        range_ = std::exchange(other.range_, {});
        reserved_ = std::exchange(other.reserved_, 0);
    }
    return *this;
}

Buffer::~Buffer() { release(); }

void Buffer::release() noexcept {
    if (pool_) pool_->release(static_cast<MemoryPool::Block*>(block_), range_.offset, reserved_);
    pool_ = nullptr;
    block_ = nullptr;
    range_ = {};
    reserved_ = 0;
}

BufferRange Buffer::range(VkDeviceSize offset, VkDeviceSize size) const {
    RAVEN_CHECK(offset <= range_.size && size <= range_.size - offset,
                "buffer range [" + std::to_string(offset) + ", " + std::to_string(offset + size) +
                    ") lies outside a buffer of " + std::to_string(range_.size) + " bytes",
                "this is a bug in the caller's indexing");
    return {range_.buffer, range_.offset + offset, size};
}

std::uint32_t findMemoryType(const VkPhysicalDeviceMemoryProperties& memory, std::uint32_t typeBits,
                             VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred) {
    std::uint32_t fallback = UINT32_MAX;
    for (std::uint32_t t = 0; t < memory.memoryTypeCount; ++t) {
        if (!(typeBits & (1u << t))) continue;
        const VkMemoryPropertyFlags flags = memory.memoryTypes[t].propertyFlags;
        if ((flags & required) != required) continue;
        if ((flags & preferred) == preferred) return t;
        if (fallback == UINT32_MAX) fallback = t;
    }
    return fallback;
}

MemoryPool::MemoryPool(VkDevice device, const DeviceInfo& info, VkDeviceSize blockSize) : device_(device) {
    vkGetPhysicalDeviceMemoryProperties(info.physicalDevice, &memoryProperties_);
    if (blockSize == 0) {
        blockSize = kDefaultBlockSize;
        if (info.deviceLocalBytes > 0)
            blockSize = std::min(blockSize, std::max(kMinBlockSize, info.deviceLocalBytes / 8));
    }
    if (info.maxMemoryAllocationSize > 0) blockSize = std::min<VkDeviceSize>(blockSize, info.maxMemoryAllocationSize);
    // Shaders index float/vec4 arrays: 16 bytes keeps every buffer vec4-aligned even where the device
    // allows smaller binding offsets.
    alignment_ = std::max<VkDeviceSize>(16, info.minStorageBufferOffsetAlignment);
    blockSize_ = (blockSize + alignment_ - 1) / alignment_ * alignment_;
}

MemoryPool::~MemoryPool() {
    RAVEN_ASSERT(liveBuffers_ == 0, std::to_string(liveBuffers_) + " Vulkan buffers outlive their Device");
    for (auto& block : blocks_) destroy(*block);
}

MemoryPool::Block& MemoryPool::newBlock(VkDeviceSize size, bool dedicated) {
    auto block = std::make_unique<Block>(
        Block{VK_NULL_HANDLE, VK_NULL_HANDLE, RangeAllocator(size), dedicated, blocksCreated_++});
    VkBufferCreateInfo bufferInfo{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bufferInfo.size = size;
    bufferInfo.usage =
        VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bufferInfo.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    check(vkCreateBuffer(device_, &bufferInfo, nullptr, &block->buffer), "vkCreateBuffer (memory block)");

    VkMemoryRequirements requirements{};
    vkGetBufferMemoryRequirements(device_, block->buffer, &requirements);
    const std::uint32_t type =
        findMemoryType(memoryProperties_, requirements.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    const std::uint32_t anyType =
        type != UINT32_MAX ? type : findMemoryType(memoryProperties_, requirements.memoryTypeBits, 0, 0);
    VkMemoryAllocateInfo allocateInfo{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    allocateInfo.allocationSize = requirements.size;
    allocateInfo.memoryTypeIndex = anyType;
    const VkResult allocated = anyType == UINT32_MAX
                                   ? VK_ERROR_OUT_OF_DEVICE_MEMORY
                                   : vkAllocateMemory(device_, &allocateInfo, nullptr, &block->memory);
    if (allocated == VK_SUCCESS) {
        ++blockAllocations_;
        const VkResult bound = vkBindBufferMemory(device_, block->buffer, block->memory, 0);
        if (bound != VK_SUCCESS) {
            destroy(*block);
            check(bound, "vkBindBufferMemory");
        }
    } else {
        destroy(*block);
        check(allocated, ("vkAllocateMemory of " + std::to_string(size >> 20) + " MiB").c_str());
    }
    blocks_.push_back(std::move(block));
    return *blocks_.back();
}

void MemoryPool::destroy(Block& block) noexcept {
    if (block.buffer != VK_NULL_HANDLE) vkDestroyBuffer(device_, block.buffer, nullptr);
    if (block.memory != VK_NULL_HANDLE) vkFreeMemory(device_, block.memory, nullptr);
    block.buffer = VK_NULL_HANDLE;
    block.memory = VK_NULL_HANDLE;
}

MemoryPool::Block* MemoryPool::findRoom(VkDeviceSize reserved, std::optional<std::uint64_t>& offset) {
    for (auto& block : blocks_) {
        if (block->dedicated) continue;
        offset = block->ranges.allocate(reserved, alignment_);
        if (offset) return block.get();
    }
    return nullptr;
}

MemoryPool::Block& MemoryPool::newBlockOrReleaseKept(VkDeviceSize size, bool dedicated) {
    try {
        return newBlock(size, dedicated);
    } catch (const Error&) {
        if (keptBytes_ == 0) throw;
    }
    releaseKept();  // the driver refused: give back what is only kept, then try once more
    return newBlock(size, dedicated);
}

Buffer MemoryPool::allocate(VkDeviceSize bytes) {
    RAVEN_CHECK(bytes > 0, "a Vulkan buffer of 0 bytes was requested", "allocate at least one element");
    const VkDeviceSize reserved = (bytes + alignment_ - 1) / alignment_ * alignment_;
    Block* home = nullptr;
    std::optional<std::uint64_t> offset;
    if (auto it = kept_.find(reserved); it != kept_.end() && !it->second.empty()) {
        const KeptRange lowest = *it->second.begin();
        it->second.erase(it->second.begin());
        home = lowest.block;
        offset = lowest.offset;
        keptBytes_ -= reserved;
    } else if (reserved > blockSize_) {
        home = &newBlockOrReleaseKept(reserved, true);
        offset = home->ranges.allocate(reserved, alignment_);
    } else {
        home = findRoom(reserved, offset);
        if (!home && keptBytes_ > 0) {
            releaseKept();  // kept ranges of other sizes may merge into room for this one
            home = findRoom(reserved, offset);
        }
        if (!home) {
            home = &newBlockOrReleaseKept(blockSize_, false);
            offset = home->ranges.allocate(reserved, alignment_);
        }
    }
    RAVEN_ASSERT(offset.has_value(), "a fresh memory block could not hold the request");
    ++liveBuffers_;
    return Buffer(this, home, BufferRange{home->buffer, *offset, bytes}, reserved);
}

void MemoryPool::release(Block* block, VkDeviceSize offset, VkDeviceSize reserved) noexcept {
    --liveBuffers_;
    try {
        kept_[reserved].insert({block->id, offset, block});
        keptBytes_ += reserved;
    } catch (...) {
        block->ranges.free(offset, reserved);  // no memory to remember it: merge it back at once
    }
}

void MemoryPool::releaseKept() noexcept {
    for (auto& [reserved, ranges] : kept_)
        for (const KeptRange& r : ranges) r.block->ranges.free(r.offset, reserved);
    kept_.clear();
    keptBytes_ = 0;
    std::erase_if(blocks_, [this](const std::unique_ptr<Block>& block) {
        if (!block->dedicated || !block->ranges.empty()) return false;
        destroy(*block);
        ++generation_;
        return true;
    });
}

void MemoryPool::trim() {
    releaseKept();
    std::erase_if(blocks_, [this](const std::unique_ptr<Block>& block) {
        if (!block->ranges.empty()) return false;
        destroy(*block);
        ++generation_;
        return true;
    });
}

MemoryPool::Stats MemoryPool::stats() const {
    Stats s;
    s.blocks = blocks_.size();
    s.blockAllocations = blockAllocations_;
    s.liveBuffers = liveBuffers_;
    for (const auto& block : blocks_) {
        s.bytesInUse += block->ranges.used();
        s.bytesHeld += block->ranges.capacity();
    }
    s.bytesInUse -= keptBytes_;
    s.bytesKept = keptBytes_;
    return s;
}

}  // namespace raven::vulkan
