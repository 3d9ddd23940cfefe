#include "worker/ComputeLanes.h"

#include <algorithm>

namespace raven::worker {

LanePlan ComputeLanes::plan(int requested, const QString& device, int threads, int cores, int maxLeases) {
    LanePlan plan;
    plan.threadsPerLane = std::max(0, threads);
    // Automatic: one lane (measured: no gain on the CPU; Vulkan not measured). See the header.
    if (requested <= 1) return plan;
    int lanes = std::min(requested, std::max(1, maxLeases));
    if (device.startsWith(QLatin1String("vulkan"))) {
        plan.lanes = lanes;
        return plan;
    }
    const int total = threads > 0 ? threads : std::max(1, cores);
    lanes = std::min(lanes, total);
    plan.lanes = lanes;
    if (lanes == 1) return plan;
    plan.threadsPerLane = total / lanes;
    plan.extraThreads = total % lanes;
    return plan;
}

}  // namespace raven::worker
