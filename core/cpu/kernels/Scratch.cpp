#include "cpu/kernels/Scratch.h"

#include <array>
#include <cstddef>
#include <memory>

namespace raven::cpu::kernels {

namespace {
struct Buffer {
    std::unique_ptr<float[]> data;
    int64_t size = 0;
};
thread_local std::array<Buffer, static_cast<std::size_t>(ScratchSlot::Count)> buffers;
}  // namespace

float* scratch(ScratchSlot slot, int64_t floats) {
    Buffer& b = buffers[static_cast<std::size_t>(slot)];
    if (floats > b.size) {
        // for_overwrite: no zeroing, and no page is touched before the kernel writes it.
        b.data = std::make_unique_for_overwrite<float[]>(static_cast<std::size_t>(floats));
        b.size = floats;
    }
    return b.data.get();
}

}  // namespace raven::cpu::kernels
