#include "vulkan/Recorder.h"

#include "base/Error.h"
#include "vulkan/Check.h"
#include "vulkan/Device.h"

#include <algorithm>
#include <cstring>

namespace raven::vulkan {
namespace {

constexpr std::uint32_t kSetsPerPool = 256;
constexpr std::uint32_t kBuffersPerPool = kSetsPerPool * 8;

bool reads(Access access) { return access != Access::Write; }
bool writes(Access access) { return access != Access::Read; }

bool overlapsAny(const BufferRange& range, const std::vector<BufferRange>& ranges) {
    return std::any_of(ranges.begin(), ranges.end(), [&](const BufferRange& r) { return r.overlaps(range); });
}

}  // namespace

Recorder::Recorder(Device& device) : device_(device) {
    VkCommandBufferAllocateInfo info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    info.commandPool = device_.commandPool();
    info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    info.commandBufferCount = 1;
    check(vkAllocateCommandBuffers(device_.handle(), &info, &commands_), "vkAllocateCommandBuffers");
}

Recorder::~Recorder() {
    if (ownsStaging_) device_.staging().reset();  // nothing of it was submitted
    releaseStaging();
    for (VkDescriptorPool pool : pools_) vkDestroyDescriptorPool(device_.handle(), pool, nullptr);
    if (queries_ != VK_NULL_HANDLE) vkDestroyQueryPool(device_.handle(), queries_, nullptr);
    vkFreeCommandBuffers(device_.handle(), device_.commandPool(), 1, &commands_);
}

VkCommandBuffer Recorder::commands() {
    if (!recording_) {
        VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
        check(vkBeginCommandBuffer(commands_, &begin), "vkBeginCommandBuffer");
        recording_ = true;
    }
    return commands_;
}

void Recorder::acquireStaging() {
    StagingRing& ring = device_.staging();
    if (ownsStaging_) return;
    RAVEN_ASSERT(ring.owner() == nullptr, "two Recorders use the staging ring at once; submit one first");
    ring.setOwner(this);
    ownsStaging_ = true;
}

void Recorder::releaseStaging() noexcept {
    if (!ownsStaging_) return;
    device_.staging().setOwner(nullptr);
    ownsStaging_ = false;
}

// A slice of the staging ring of up to `bytes` bytes (`granted` says how many), submitting the work
// recorded so far when the ring is full.
VkDeviceSize Recorder::stagingSlice(VkDeviceSize bytes, VkDeviceSize& granted) {
    acquireStaging();
    StagingRing& ring = device_.staging();
    granted = std::min(bytes, ring.size());
    if (auto offset = ring.allocate(granted)) return *offset;
    submit();
    acquireStaging();
    const auto offset = ring.allocate(granted);
    RAVEN_ASSERT(offset.has_value(), "an empty staging ring refused a slice no larger than itself");
    return *offset;
}

void Recorder::orderBefore(std::span<const Binding> uses) {
    bool hazard = false;
    for (const Binding& use : uses) {
        if (reads(use.access) && overlapsAny(use.range, written_)) hazard = true;  // read after write
        if (writes(use.access) && (overlapsAny(use.range, written_) || overlapsAny(use.range, read_)))
            hazard = true;  // write after write/read
    }
    if (!hazard) return;
    std::vector<VkBufferMemoryBarrier> barriers;
    for (const BufferRange& range : written_) {
        VkBufferMemoryBarrier barrier{VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
        barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
        barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                                VK_ACCESS_TRANSFER_WRITE_BIT;
        barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
        barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
        barrier.buffer = range.buffer;
        barrier.offset = range.offset;
        barrier.size = range.size;
        barriers.push_back(barrier);
    }
    // Write-after-read needs only the execution dependency that the stage masks give.
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(commands(), stages, stages, 0, 0, nullptr, static_cast<std::uint32_t>(barriers.size()),
                         barriers.data(), 0, nullptr);
    ++stats_.barriers;
    written_.clear();
    read_.clear();
}

void Recorder::remember(std::span<const Binding> uses) {
    for (const Binding& use : uses) {
        if (writes(use.access)) written_.push_back(use.range);
        if (reads(use.access)) read_.push_back(use.range);
    }
}

void Recorder::upload(const BufferRange& dst, std::span<const std::byte> data) {
    RAVEN_CHECK(dst.size == data.size(),
                "upload of " + std::to_string(data.size()) + " bytes into a range of " + std::to_string(dst.size),
                "the host data and the device buffer must have the same size");
    VkDeviceSize done = 0;
    while (done < data.size()) {
        VkDeviceSize chunk = 0;
        const VkDeviceSize offset = stagingSlice(data.size() - done, chunk);
        std::memcpy(device_.staging().mapped() + offset, data.data() + done, chunk);
        const Binding target{{dst.buffer, dst.offset + done, chunk}, Access::Write};
        orderBefore({&target, 1});
        const VkBufferCopy copy{offset, dst.offset + done, chunk};
        vkCmdCopyBuffer(commands(), device_.staging().buffer(), dst.buffer, 1, &copy);
        remember({&target, 1});
        done += chunk;
    }
}

void Recorder::download(const BufferRange& src, std::span<std::byte> out) {
    RAVEN_CHECK(src.size == out.size(),
                "download of a range of " + std::to_string(src.size) + " bytes into " + std::to_string(out.size()),
                "the device buffer and the host memory must have the same size");
    VkDeviceSize done = 0;
    while (done < out.size()) {
        VkDeviceSize chunk = 0;
        const VkDeviceSize offset = stagingSlice(out.size() - done, chunk);
        const Binding source{{src.buffer, src.offset + done, chunk}, Access::Read};
        orderBefore({&source, 1});
        const VkBufferCopy copy{src.offset + done, offset, chunk};
        vkCmdCopyBuffer(commands(), src.buffer, device_.staging().buffer(), 1, &copy);
        remember({&source, 1});
        downloads_.push_back({offset, out.subspan(done, chunk)});
        done += chunk;
    }
}

VkDescriptorSet Recorder::allocateSet(VkDescriptorSetLayout layout) {
    while (true) {
        if (currentPool_ == pools_.size()) {
            const VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kBuffersPerPool};
            VkDescriptorPoolCreateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
            info.maxSets = kSetsPerPool;
            info.poolSizeCount = 1;
            info.pPoolSizes = &size;
            VkDescriptorPool pool = VK_NULL_HANDLE;
            check(vkCreateDescriptorPool(device_.handle(), &info, nullptr, &pool), "vkCreateDescriptorPool");
            pools_.push_back(pool);
            ++stats_.descriptorPools;
        }
        VkDescriptorSetAllocateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
        info.descriptorPool = pools_[currentPool_];
        info.descriptorSetCount = 1;
        info.pSetLayouts = &layout;
        VkDescriptorSet set = VK_NULL_HANDLE;
        const VkResult result = vkAllocateDescriptorSets(device_.handle(), &info, &set);
        if (result == VK_SUCCESS) return set;
        if (result != VK_ERROR_OUT_OF_POOL_MEMORY && result != VK_ERROR_FRAGMENTED_POOL)
            check(result, "vkAllocateDescriptorSets");
        ++currentPool_;  // this pool is full until the next submit; go on with the next one
    }
}

void Recorder::dispatch(const Pipeline& pipeline, std::span<const Binding> bindings, std::span<const std::byte> push,
                        Groups groups) {
    const PipelineDesc& desc = pipeline.desc;
    const DeviceInfo& info = device_.info();
    RAVEN_CHECK(bindings.size() == desc.bindings,
                "shader " + desc.shader + " binds " + std::to_string(desc.bindings) + " buffers, the dispatch gave " +
                    std::to_string(bindings.size()),
                "pass one Binding per buffer of the shader");
    RAVEN_CHECK(push.size() == desc.pushConstantBytes,
                "shader " + desc.shader + " takes " + std::to_string(desc.pushConstantBytes) +
                    " bytes of push constants, the dispatch gave " + std::to_string(push.size()),
                "the push-constant struct must match the shader's layout");
    for (const Binding& b : bindings) {
        RAVEN_CHECK(b.range.buffer != VK_NULL_HANDLE && b.range.size > 0,
                    "shader " + desc.shader + " got an empty buffer binding", "bind an allocated, non-empty buffer");
        RAVEN_CHECK(b.range.size <= info.maxStorageBufferRange,
                    "a binding of " + std::to_string(b.range.size) + " bytes for shader " + desc.shader +
                        " exceeds this device's maxStorageBufferRange of " + std::to_string(info.maxStorageBufferRange),
                    "split the operation into parts of at most maxStorageBufferRange bytes");
        RAVEN_CHECK(b.range.offset % info.minStorageBufferOffsetAlignment == 0,
                    "a binding at offset " + std::to_string(b.range.offset) + " for shader " + desc.shader +
                        " is not a multiple of minStorageBufferOffsetAlignment (" +
                        std::to_string(info.minStorageBufferOffsetAlignment) + ")",
                    "split at aligned offsets, or pass the element offset in a push constant");
    }
    const std::string kind = std::move(nextKind_);
    const double flops = nextFlops_, declaredBytes = nextBytes_;
    nextKind_.clear();
    nextFlops_ = 0;
    nextBytes_ = -1;
    if (groups.x == 0 || groups.y == 0 || groups.z == 0) return;
    if (profiling_ && timed_.size() * 2 + 2 > kQueriesPerSubmit) submit();

    orderBefore(bindings);
    const VkDescriptorSet set = allocateSet(pipeline.setLayout);
    std::vector<VkDescriptorBufferInfo> buffers(bindings.size());
    std::vector<VkWriteDescriptorSet> writes(bindings.size());
    for (std::size_t i = 0; i < bindings.size(); ++i) {
        buffers[i] = {bindings[i].range.buffer, bindings[i].range.offset, bindings[i].range.size};
        writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        writes[i].dstSet = set;
        writes[i].dstBinding = static_cast<std::uint32_t>(i);
        writes[i].descriptorCount = 1;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        writes[i].pBufferInfo = &buffers[i];
    }
    vkUpdateDescriptorSets(device_.handle(), static_cast<std::uint32_t>(writes.size()), writes.data(), 0, nullptr);

    VkCommandBuffer cmd = commands();
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout, 0, 1, &set, 0, nullptr);
    if (!push.empty())
        vkCmdPushConstants(cmd, pipeline.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                           static_cast<std::uint32_t>(push.size()), push.data());

    if (profiling_) {
        if (!queriesReset_) {
            vkCmdResetQueryPool(cmd, queries_, 0, kQueriesPerSubmit);
            queriesReset_ = true;
        }
        double bytes = declaredBytes;
        if (bytes < 0) {
            bytes = 0;
            for (const Binding& b : bindings) bytes += static_cast<double>(b.range.size);
        }
        timed_.push_back({kind.empty() ? desc.shader : kind, flops, bytes});
        vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, queries_,
                            static_cast<std::uint32_t>(timed_.size() * 2 - 2));
    }
    const std::uint32_t limitX = device_.maxGroupsPerDispatch(0);
    const std::uint32_t limitY = device_.maxGroupsPerDispatch(1);
    const std::uint32_t limitZ = device_.maxGroupsPerDispatch(2);
    for (std::uint32_t z = 0; z < groups.z; z += std::min(limitZ, groups.z - z))
        for (std::uint32_t y = 0; y < groups.y; y += std::min(limitY, groups.y - y))
            for (std::uint32_t x = 0; x < groups.x; x += std::min(limitX, groups.x - x)) {
                const std::uint32_t cx = std::min(limitX, groups.x - x);
                const std::uint32_t cy = std::min(limitY, groups.y - y);
                const std::uint32_t cz = std::min(limitZ, groups.z - z);
                if (x == 0 && y == 0 && z == 0)
                    vkCmdDispatch(cmd, cx, cy, cz);
                else
                    vkCmdDispatchBase(cmd, x, y, z, cx, cy, cz);
                ++stats_.dispatchCalls;
            }
    if (profiling_)
        vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, queries_,
                            static_cast<std::uint32_t>(timed_.size() * 2 - 1));
    remember(bindings);
}

void Recorder::submit() {
    if (!recording_) return;
    if (!downloads_.empty()) {
        // Make the copies into staging visible to the host reads after the fence.
        VkBufferMemoryBarrier barrier{VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
        barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
        barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
        barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
        barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
        barrier.buffer = device_.staging().buffer();
        barrier.offset = 0;
        barrier.size = VK_WHOLE_SIZE;
        vkCmdPipelineBarrier(commands_, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0, nullptr, 1,
                             &barrier, 0, nullptr);
    }
    recording_ = false;
    check(vkEndCommandBuffer(commands_), "vkEndCommandBuffer");
    device_.submitAndWait(commands_);
    ++stats_.submits;

    collectTimings();
    for (const PendingDownload& d : downloads_)
        std::memcpy(d.out.data(), device_.staging().mapped() + d.stagingOffset, d.out.size());
    downloads_.clear();
    written_.clear();
    read_.clear();
    if (ownsStaging_) device_.staging().reset();
    releaseStaging();
    for (VkDescriptorPool pool : pools_) vkResetDescriptorPool(device_.handle(), pool, 0);
    currentPool_ = 0;
    check(vkResetCommandBuffer(commands_, 0), "vkResetCommandBuffer");
}

bool Recorder::setProfiling(bool on) {
    if (on && device_.info().timestampValidBits == 0) return false;
    if (on && queries_ == VK_NULL_HANDLE) {
        VkQueryPoolCreateInfo info{VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
        info.queryType = VK_QUERY_TYPE_TIMESTAMP;
        info.queryCount = kQueriesPerSubmit;
        check(vkCreateQueryPool(device_.handle(), &info, nullptr, &queries_), "vkCreateQueryPool");
    }
    // Dispatches recorded before the switch stay untimed; those timed before a switch off are still
    // collected at the next submit.
    profiling_ = on;
    return true;
}

void Recorder::describeNext(std::string kind, double flops, double bytes) {
    if (!profiling_) return;
    nextKind_ = std::move(kind);
    nextFlops_ = flops;
    nextBytes_ = bytes;
}

void Recorder::collectTimings() {
    queriesReset_ = false;
    if (timed_.empty()) return;
    std::vector<std::uint64_t> ticks(timed_.size() * 2);
    check(vkGetQueryPoolResults(device_.handle(), queries_, 0, static_cast<std::uint32_t>(ticks.size()),
                                ticks.size() * sizeof(std::uint64_t), ticks.data(), sizeof(std::uint64_t),
                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
          "vkGetQueryPoolResults");
    const DeviceInfo& info = device_.info();
    const std::uint64_t mask =
        info.timestampValidBits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << info.timestampValidBits) - 1;
    for (std::size_t i = 0; i < timed_.size(); ++i) {
        const std::uint64_t ticksSpent = ((ticks[2 * i + 1] & mask) - (ticks[2 * i] & mask)) & mask;
        auto entry = std::find_if(profile_.begin(), profile_.end(),
                                  [&](const OpProfile& p) { return p.kind == timed_[i].kind; });
        if (entry == profile_.end()) entry = profile_.insert(profile_.end(), OpProfile{timed_[i].kind});
        ++entry->dispatches;
        entry->seconds += static_cast<double>(ticksSpent) * static_cast<double>(info.timestampPeriod) * 1e-9;
        entry->flops += timed_[i].flops;
        entry->bytes += timed_[i].bytes;
    }
    timed_.clear();
}

Groups Recorder::groupsFor(std::uint64_t invocations, std::uint32_t localSize) {
    RAVEN_ASSERT(localSize > 0, "a workgroup needs at least one invocation");
    const std::uint64_t groups = (invocations + localSize - 1) / localSize;
    RAVEN_CHECK(groups <= UINT32_MAX, std::to_string(invocations) + " invocations need more than 2^32 workgroups",
                "split the operation along another dimension");
    return {static_cast<std::uint32_t>(groups), 1, 1};
}

}  // namespace raven::vulkan
