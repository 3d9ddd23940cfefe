#pragma once
// First-fit allocation of aligned sub-ranges inside one fixed-size block (a VkDeviceMemory block in
// practice, but this class only does arithmetic, so it is tested without a device).
//
// Free space is a sorted map offset -> size; allocate() takes the first free range that can hold the
// aligned request, free() gives a range back and merges it with its free neighbours, so a block that
// empties becomes one free range again. O(free ranges) per call, which stays small because tensors
// of one model are freed and reallocated in the same sizes step after step.
#include <cstdint>
#include <map>
#include <optional>

namespace raven::vulkan {

class RangeAllocator {
public:
    explicit RangeAllocator(std::uint64_t capacity);

    // The offset of `size` bytes aligned to `alignment` (a power of two), or nullopt when no free
    // range fits. size must be > 0.
    std::optional<std::uint64_t> allocate(std::uint64_t size, std::uint64_t alignment);
    // Gives back a range that allocate() returned, with the same size.
    void free(std::uint64_t offset, std::uint64_t size);

    std::uint64_t capacity() const noexcept { return capacity_; }
    std::uint64_t used() const noexcept { return used_; }
    bool empty() const noexcept { return used_ == 0; }
    std::uint64_t largestFree() const;
    std::size_t freeRangeCount() const noexcept { return free_.size(); }

private:
    std::uint64_t capacity_;
    std::uint64_t used_ = 0;
    std::map<std::uint64_t, std::uint64_t> free_;  // offset -> size, never adjacent (merged on free)
};

}  // namespace raven::vulkan
