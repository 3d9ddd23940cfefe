#include "vulkan/VectorAdd.h"

#include "base/Error.h"
#include "vulkan/Device.h"
#include "vulkan/Recorder.h"

#include <algorithm>

namespace raven::vulkan {

std::uint32_t vectorAddWorkgroupSize(const Device& device) {
    const DeviceInfo& info = device.info();
    // 256 suits most GPUs; stay within what this device allows, and a whole number of subgroups.
    std::uint32_t size = std::min({256u, info.maxComputeWorkGroupSize[0], info.maxComputeWorkGroupInvocations});
    if (info.subgroupSize > 0 && size > info.subgroupSize) size -= size % info.subgroupSize;
    return std::max(size, 1u);
}

void vectorAdd(Device& device, Recorder& recorder, const BufferRange& a, const BufferRange& b, const BufferRange& c,
               std::uint64_t n) {
    const std::uint64_t bytes = n * sizeof(float);
    RAVEN_CHECK(a.size >= bytes && b.size >= bytes && c.size >= bytes,
                "vectorAdd of " + std::to_string(n) + " floats got a buffer smaller than that",
                "allocate n * sizeof(float) bytes for each operand");
    if (n == 0) return;
    const std::uint32_t local = vectorAddWorkgroupSize(device);
    const Pipeline& pipeline = device.pipelines().get({"vector_add", 3, sizeof(std::uint32_t), {local}});

    // One binding may span at most maxBindingBytes(): go in parts that start at aligned offsets.
    const std::uint64_t alignment = device.bindingAlignment();
    const std::uint64_t partBytes =
        std::min<std::uint64_t>(device.maxBindingBytes(), UINT32_MAX) / alignment * alignment;
    const std::uint64_t partElements = partBytes / sizeof(float);
    for (std::uint64_t start = 0; start < n; start += partElements) {
        const std::uint64_t count = std::min(partElements, n - start);
        const VkDeviceSize offset = start * sizeof(float);
        const VkDeviceSize size = count * sizeof(float);
        const std::uint32_t push = static_cast<std::uint32_t>(count);
        recorder.dispatch(pipeline,
                          {{{a.buffer, a.offset + offset, size}, Access::Read},
                           {{b.buffer, b.offset + offset, size}, Access::Read},
                           {{c.buffer, c.offset + offset, size}, Access::Write}},
                          push, Recorder::groupsFor(count, local));
    }
}

std::vector<float> vectorAdd(Device& device, std::span<const float> a, std::span<const float> b) {
    RAVEN_CHECK(
        a.size() == b.size(),
        "vectorAdd of vectors of " + std::to_string(a.size()) + " and " + std::to_string(b.size()) + " elements",
        "both operands must have the same length");
    std::vector<float> c(a.size());
    if (a.empty()) return c;
    const VkDeviceSize bytes = a.size_bytes();
    Buffer da = device.createBuffer(bytes);
    Buffer db = device.createBuffer(bytes);
    Buffer dc = device.createBuffer(bytes);
    Recorder recorder(device);
    recorder.upload(da.range(), a);
    recorder.upload(db.range(), b);
    vectorAdd(device, recorder, da.range(), db.range(), dc.range(), a.size());
    recorder.download(dc.range(), std::span<float>(c));
    recorder.submit();
    return c;
}

}  // namespace raven::vulkan
