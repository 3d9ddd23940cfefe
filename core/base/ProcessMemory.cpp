#include "base/ProcessMemory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace raven {

void keepLargeBuffersInProcess() {
#if defined(__GLIBC__)
    constexpr int kMmapAbove = 64 << 20;  // larger (a whole shard upload, weights) still get their own mapping
    constexpr int kTrimAbove = 512 << 20;
    mallopt(M_MMAP_THRESHOLD, kMmapAbove);
    mallopt(M_TRIM_THRESHOLD, kTrimAbove);
#endif
}

}  // namespace raven
