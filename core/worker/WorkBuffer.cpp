#include "worker/WorkBuffer.h"

#include <algorithm>

namespace raven::worker {

WorkBuffer::WorkBuffer(int low, int high) : low_(1), high_(std::max(1, high)) { low_ = std::clamp(low, 1, high_); }

}  // namespace raven::worker
