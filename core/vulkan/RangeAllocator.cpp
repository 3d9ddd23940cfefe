#include "vulkan/RangeAllocator.h"

#include "base/Error.h"

#include <algorithm>
#include <iterator>

namespace raven::vulkan {

RangeAllocator::RangeAllocator(std::uint64_t capacity) : capacity_(capacity) {
    if (capacity > 0) free_.emplace(0, capacity);
}

std::optional<std::uint64_t> RangeAllocator::allocate(std::uint64_t size, std::uint64_t alignment) {
    RAVEN_ASSERT(size > 0, "RangeAllocator::allocate of 0 bytes");
    RAVEN_ASSERT(alignment > 0 && (alignment & (alignment - 1)) == 0, "alignment must be a power of two");
    for (auto it = free_.begin(); it != free_.end(); ++it) {
        const std::uint64_t start = it->first;
        const std::uint64_t rangeSize = it->second;
        const std::uint64_t aligned = (start + alignment - 1) & ~(alignment - 1);
        if (aligned - start > rangeSize || rangeSize - (aligned - start) < size) continue;
        // Split the free range into [start, aligned) before and [aligned + size, end) after.
        const std::uint64_t end = start + rangeSize;
        free_.erase(it);
        if (aligned > start) free_.emplace(start, aligned - start);
        if (aligned + size < end) free_.emplace(aligned + size, end - (aligned + size));
        used_ += size;
        return aligned;
    }
    return std::nullopt;
}

void RangeAllocator::free(std::uint64_t offset, std::uint64_t size) {
    RAVEN_ASSERT(size > 0 && offset + size <= capacity_ && size <= used_, "freeing a range that was never allocated");
    auto next = free_.lower_bound(offset);
    RAVEN_ASSERT(next == free_.end() || next->first >= offset + size, "double free: range overlaps free space");
    std::uint64_t start = offset;
    std::uint64_t end = offset + size;
    if (next != free_.begin()) {
        auto prev = std::prev(next);
        RAVEN_ASSERT(prev->first + prev->second <= offset, "double free: range overlaps free space");
        if (prev->first + prev->second == offset) {
            start = prev->first;
            free_.erase(prev);
        }
    }
    if (next != free_.end() && next->first == end) {
        end += next->second;
        free_.erase(next);
    }
    free_.emplace(start, end - start);
    used_ -= size;
}

std::uint64_t RangeAllocator::largestFree() const {
    std::uint64_t largest = 0;
    for (const auto& [offset, size] : free_) largest = std::max(largest, size);
    return largest;
}

}  // namespace raven::vulkan
