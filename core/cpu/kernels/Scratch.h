#pragma once
// Per-thread working memory for the kernels (im2col columns and their gradients): grown when a larger
// one is asked for, kept between calls, never zeroed (every kernel writes what it then reads). A
// training step asks for the same sizes every step, so after the first step no kernel allocates, and
// no page is touched for the first time.
#include <cstdint>

namespace raven::cpu::kernels {

// Kernels that need two buffers at once use different slots. GemmSharedB is the one slot read by other
// threads: the caller of a parallelFor fills it, the tasks read it, and the caller holds it until the
// parallelFor returns (CpuMatmul's B packed once for all its row blocks).
enum class ScratchSlot { Columns, ColumnGradients, Partials, GemmPackedA, GemmPackedB, GemmSharedB, Count };

// A buffer of at least `floats` floats for this thread and slot, valid until the next call with the
// same slot on this thread.
float* scratch(ScratchSlot slot, int64_t floats);

}  // namespace raven::cpu::kernels
