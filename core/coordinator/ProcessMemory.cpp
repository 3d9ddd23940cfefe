#include "coordinator/ProcessMemory.h"

#include <malloc.h>

namespace raven::coordinator {

void keepLargeBuffersInProcess() {
#if defined(__GLIBC__)
    constexpr int kMmapAbove = 64 << 20;  // larger (a whole shard upload, weights) still get their own mapping
    constexpr int kTrimAbove = 512 << 20;
    mallopt(M_MMAP_THRESHOLD, kMmapAbove);
    mallopt(M_TRIM_THRESHOLD, kTrimAbove);
#endif
}

}  // namespace raven::coordinator
