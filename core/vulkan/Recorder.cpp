#include "vulkan/Recorder.h"

#include "base/Error.h"
#include "vulkan/Check.h"
#include "vulkan/Device.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <type_traits>

namespace raven::vulkan {
namespace {

constexpr std::uint32_t kSetsPerPool = 256;
constexpr std::uint32_t kBuffersPerPool = kSetsPerPool * 8;

bool reads(Access access) { return access != Access::Write; }
bool writes(Access access) { return access != Access::Read; }

bool overlapsAny(const BufferRange& range, const std::vector<BufferRange>& ranges) {
    return std::any_of(ranges.begin(), ranges.end(), [&](const BufferRange& r) { return r.overlaps(range); });
}

// A Vulkan handle as a log word: a pointer on 64-bit builds, a uint64_t elsewhere.
template <class Handle>
std::uint64_t word(Handle handle) {
    if constexpr (std::is_pointer_v<Handle>)
        return reinterpret_cast<std::uintptr_t>(handle);
    else
        return static_cast<std::uint64_t>(handle);
}

std::uint64_t hashOf(const std::vector<std::uint64_t>& key) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the words
    for (std::uint64_t w : key) {
        h ^= w;
        h *= 1099511628211ull;
    }
    return h;
}

}  // namespace

Recorder::Recorder(Device& device) : device_(device), memoryGeneration_(device.memory().generation()) {}

Recorder::~Recorder() {
    if (ownsStaging_) device_.staging().reset();  // nothing of it was submitted
    releaseStaging();
    for (auto& recording : cached_) destroyRecording(*recording);
    for (auto& recording : spare_) destroyRecording(*recording);
    if (queries_ != VK_NULL_HANDLE) vkDestroyQueryPool(device_.handle(), queries_, nullptr);
}

void Recorder::log(const Command& command, std::initializer_list<std::uint64_t> words) {
    commands_.push_back(command);
    key_.push_back(static_cast<std::uint64_t>(command.op));
    key_.insert(key_.end(), words);
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
    Command barrier;
    barrier.op = Op::Barrier;
    barrier.first = static_cast<std::uint32_t>(ranges_.size());
    barrier.count = static_cast<std::uint32_t>(written_.size());
    ranges_.insert(ranges_.end(), written_.begin(), written_.end());
    log(barrier, {barrier.count});
    for (const BufferRange& r : written_) key_.insert(key_.end(), {word(r.buffer), r.offset, r.size});
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
        Command copy;
        copy.src = device_.staging().buffer();
        copy.dst = dst.buffer;
        copy.region = {offset, dst.offset + done, chunk};
        log(copy, {word(copy.src), word(copy.dst), copy.region.srcOffset, copy.region.dstOffset, chunk});
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
        Command copy;
        copy.src = src.buffer;
        copy.dst = device_.staging().buffer();
        copy.region = {src.offset + done, offset, chunk};
        log(copy, {word(copy.src), word(copy.dst), copy.region.srcOffset, copy.region.dstOffset, chunk});
        remember({&source, 1});
        downloads_.push_back({offset, out.subspan(done, chunk)});
        done += chunk;
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
        RAVEN_CHECK(b.range.size <= device_.maxBindingBytes(),
                    "a binding of " + std::to_string(b.range.size) + " bytes for shader " + desc.shader +
                        " exceeds the largest storage-buffer binding of " + info.name + " (" +
                        std::to_string(device_.maxBindingBytes()) + " bytes)",
                    "this operation binds its operands whole: use smaller batches or layers, or the CPU backend");
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
    if (profiling_) {
        if (!queriesReset_) {
            log({Op::ResetQueries}, {});
            queriesReset_ = true;
        }
        double bytes = declaredBytes;
        if (bytes < 0) {
            bytes = 0;
            for (const Binding& b : bindings) bytes += static_cast<double>(b.range.size);
        }
        timed_.push_back({kind.empty() ? desc.shader : kind, flops, bytes});
        Command stamp;
        stamp.op = Op::Timestamp;
        stamp.query = static_cast<std::uint32_t>(timed_.size() * 2 - 2);
        log(stamp, {stamp.query});
    }

    Command command;
    command.op = Op::Dispatch;
    command.pipeline = &pipeline;
    command.groups = groups;
    command.first = static_cast<std::uint32_t>(ranges_.size());
    command.count = static_cast<std::uint32_t>(bindings.size());
    command.pushFirst = static_cast<std::uint32_t>(push_.size());
    command.pushBytes = static_cast<std::uint32_t>(push.size());
    for (const Binding& b : bindings) ranges_.push_back(b.range);
    push_.insert(push_.end(), push.begin(), push.end());
    log(command, {word(&pipeline), groups.x, groups.y, groups.z, command.count, command.pushBytes});
    for (const Binding& b : bindings)
        key_.insert(key_.end(),
                    {word(b.range.buffer), b.range.offset, b.range.size, static_cast<std::uint64_t>(b.access)});
    for (std::size_t i = 0; i < push.size(); i += sizeof(std::uint64_t)) {
        std::uint64_t w = 0;
        std::memcpy(&w, push.data() + i, std::min(sizeof w, push.size() - i));
        key_.push_back(w);
    }
    // The split into vkCmdDispatchBase calls is made when recording; it is counted now.
    const auto parts = [&](std::uint32_t count, int axis) {
        const std::uint32_t limit = device_.maxGroupsPerDispatch(axis);
        return static_cast<std::size_t>((count + limit - 1) / limit);
    };
    stats_.dispatchCalls += parts(groups.x, 0) * parts(groups.y, 1) * parts(groups.z, 2);

    if (profiling_) {
        Command stamp;
        stamp.op = Op::Timestamp;
        stamp.query = static_cast<std::uint32_t>(timed_.size() * 2 - 1);
        log(stamp, {stamp.query});
    }
    remember(bindings);
}

Recorder::Recording& Recorder::freshRecording() {
    if (!spare_.empty()) {
        cached_.push_back(std::move(spare_.back()));
        spare_.pop_back();
    } else if (cached_.size() >= std::max<std::size_t>(kCachedRecordings, 1)) {
        // Record over the least recently used one.
        auto oldest = std::min_element(cached_.begin(), cached_.end(),
                                       [](const auto& a, const auto& b) { return a->lastUse < b->lastUse; });
        resetRecording(**oldest);
        std::rotate(oldest, oldest + 1, cached_.end());
    } else {
        auto recording = std::make_unique<Recording>();
        VkCommandBufferAllocateInfo info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
        info.commandPool = device_.commandPool();
        info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
        info.commandBufferCount = 1;
        check(vkAllocateCommandBuffers(device_.handle(), &info, &recording->commands), "vkAllocateCommandBuffers");
        cached_.push_back(std::move(recording));
    }
    return *cached_.back();
}

void Recorder::resetRecording(Recording& recording) {
    check(vkResetCommandBuffer(recording.commands, 0), "vkResetCommandBuffer");
    for (VkDescriptorPool pool : recording.pools) vkResetDescriptorPool(device_.handle(), pool, 0);
    recording.currentPool = 0;
    recording.key.clear();
    recording.hash = 0;
}

void Recorder::destroyRecording(Recording& recording) noexcept {
    for (VkDescriptorPool pool : recording.pools) vkDestroyDescriptorPool(device_.handle(), pool, nullptr);
    recording.pools.clear();
    if (recording.commands != VK_NULL_HANDLE)
        vkFreeCommandBuffers(device_.handle(), device_.commandPool(), 1, &recording.commands);
    recording.commands = VK_NULL_HANDLE;
}

VkDescriptorSet Recorder::allocateSet(Recording& recording, VkDescriptorSetLayout layout) {
    while (true) {
        if (recording.currentPool == recording.pools.size()) {
            const VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, kBuffersPerPool};
            VkDescriptorPoolCreateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
            info.maxSets = kSetsPerPool;
            info.poolSizeCount = 1;
            info.pPoolSizes = &size;
            VkDescriptorPool pool = VK_NULL_HANDLE;
            check(vkCreateDescriptorPool(device_.handle(), &info, nullptr, &pool), "vkCreateDescriptorPool");
            recording.pools.push_back(pool);
            ++stats_.descriptorPools;
        }
        VkDescriptorSetAllocateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
        info.descriptorPool = recording.pools[recording.currentPool];
        info.descriptorSetCount = 1;
        info.pSetLayouts = &layout;
        VkDescriptorSet set = VK_NULL_HANDLE;
        const VkResult result = vkAllocateDescriptorSets(device_.handle(), &info, &set);
        if (result == VK_SUCCESS) return set;
        if (result != VK_ERROR_OUT_OF_POOL_MEMORY && result != VK_ERROR_FRAGMENTED_POOL)
            check(result, "vkAllocateDescriptorSets");
        ++recording.currentPool;  // this pool is full; go on with the next one
    }
}

// Turns the log into recording.commands.
void Recorder::record(Recording& recording) {
    VkCommandBuffer cmd = recording.commands;
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = device_.reuseCommandBuffers() ? 0 : VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
    // Dispatches that bind the same ranges to the same layout share one descriptor set.
    std::map<std::vector<std::uint64_t>, VkDescriptorSet> sets;
    std::vector<std::uint64_t> setKey;
    std::vector<VkDescriptorBufferInfo> buffers;
    std::vector<VkWriteDescriptorSet> writes;
    std::vector<VkBufferMemoryBarrier> barriers;
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    for (const Command& c : commands_) {
        switch (c.op) {
            case Op::Copy:
                vkCmdCopyBuffer(cmd, c.src, c.dst, 1, &c.region);
                break;
            case Op::Barrier: {
                barriers.clear();
                for (std::uint32_t i = 0; i < c.count; ++i) {
                    const BufferRange& range = ranges_[c.first + i];
                    VkBufferMemoryBarrier barrier{VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
                    barrier.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
                    barrier.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                            VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
                    barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
                    barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
                    barrier.buffer = range.buffer;
                    barrier.offset = range.offset;
                    barrier.size = range.size;
                    barriers.push_back(barrier);
                }
                // Write-after-read needs only the execution dependency that the stage masks give.
                vkCmdPipelineBarrier(cmd, stages, stages, 0, 0, nullptr, static_cast<std::uint32_t>(barriers.size()),
                                     barriers.data(), 0, nullptr);
                break;
            }
            case Op::Dispatch: {
                const Pipeline& pipeline = *c.pipeline;
                setKey.assign({word(pipeline.setLayout)});
                for (std::uint32_t i = 0; i < c.count; ++i) {
                    const BufferRange& r = ranges_[c.first + i];
                    setKey.insert(setKey.end(), {word(r.buffer), r.offset, r.size});
                }
                VkDescriptorSet& set = sets[setKey];
                if (set == VK_NULL_HANDLE) {
                    set = allocateSet(recording, pipeline.setLayout);
                    buffers.resize(c.count);
                    writes.resize(c.count);
                    for (std::uint32_t i = 0; i < c.count; ++i) {
                        const BufferRange& r = ranges_[c.first + i];
                        buffers[i] = {r.buffer, r.offset, r.size};
                        writes[i] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
                        writes[i].dstSet = set;
                        writes[i].dstBinding = i;
                        writes[i].descriptorCount = 1;
                        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
                        writes[i].pBufferInfo = &buffers[i];
                    }
                    vkUpdateDescriptorSets(device_.handle(), c.count, writes.data(), 0, nullptr);
                }
                vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.pipeline);
                vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout, 0, 1, &set, 0, nullptr);
                if (c.pushBytes > 0)
                    vkCmdPushConstants(cmd, pipeline.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, c.pushBytes,
                                       push_.data() + c.pushFirst);
                const std::uint32_t limitX = device_.maxGroupsPerDispatch(0);
                const std::uint32_t limitY = device_.maxGroupsPerDispatch(1);
                const std::uint32_t limitZ = device_.maxGroupsPerDispatch(2);
                const Groups& g = c.groups;
                for (std::uint32_t z = 0; z < g.z; z += std::min(limitZ, g.z - z))
                    for (std::uint32_t y = 0; y < g.y; y += std::min(limitY, g.y - y))
                        for (std::uint32_t x = 0; x < g.x; x += std::min(limitX, g.x - x)) {
                            const std::uint32_t cx = std::min(limitX, g.x - x);
                            const std::uint32_t cy = std::min(limitY, g.y - y);
                            const std::uint32_t cz = std::min(limitZ, g.z - z);
                            if (x == 0 && y == 0 && z == 0)
                                vkCmdDispatch(cmd, cx, cy, cz);
                            else
                                vkCmdDispatchBase(cmd, x, y, z, cx, cy, cz);
                        }
                break;
            }
            case Op::ResetQueries:
                vkCmdResetQueryPool(cmd, queries_, 0, kQueriesPerSubmit);
                break;
            case Op::Timestamp:
                vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, queries_, c.query);
                break;
            case Op::HostBarrier: {
                // Make the copies into staging visible to the host reads after the fence.
                VkBufferMemoryBarrier barrier{VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER};
                barrier.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
                barrier.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
                barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
                barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
                barrier.buffer = device_.staging().buffer();
                barrier.offset = 0;
                barrier.size = VK_WHOLE_SIZE;
                vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 0, nullptr, 1,
                                     &barrier, 0, nullptr);
                break;
            }
        }
    }
    check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
}

void Recorder::clearLog() noexcept {
    commands_.clear();
    ranges_.clear();
    push_.clear();
    key_.clear();
}

void Recorder::submit() {
    if (commands_.empty()) return;
    if (!downloads_.empty()) log({Op::HostBarrier}, {});

    // Buffers named by older recordings may have been destroyed (and their handles reused): forget them.
    const std::uint64_t generation = device_.memory().generation();
    if (generation != memoryGeneration_) {
        for (auto& recording : cached_) {
            resetRecording(*recording);
            spare_.push_back(std::move(recording));
        }
        cached_.clear();
        memoryGeneration_ = generation;
    }

    const std::uint64_t hash = hashOf(key_);
    Recording* chosen = nullptr;
    if (device_.reuseCommandBuffers()) {
        for (auto& recording : cached_)
            if (recording->hash == hash && recording->key == key_) chosen = recording.get();
    }
    if (chosen) {
        ++stats_.commandBuffersReused;
    } else {
        chosen = &freshRecording();
        try {
            record(*chosen);
        } catch (...) {
            resetRecording(*chosen);
            throw;
        }
        chosen->hash = hash;
        chosen->key = key_;
        ++stats_.commandBuffersRecorded;
    }
    chosen->lastUse = ++useClock_;
    clearLog();
    written_.clear();
    read_.clear();
    std::vector<PendingDownload> downloads = std::move(downloads_);
    downloads_.clear();
    const auto finish = [&]() noexcept {
        if (ownsStaging_) device_.staging().reset();
        releaseStaging();
        if (!device_.reuseCommandBuffers()) {
            // Nothing is kept: the next submission records into the same command buffer.
            const auto it =
                std::find_if(cached_.begin(), cached_.end(), [&](const auto& r) { return r.get() == chosen; });
            try {
                resetRecording(*chosen);
            } catch (const std::exception&) {
                // A reset that fails leaves the buffer to be freed with the Recorder.
            }
            spare_.push_back(std::move(*it));
            cached_.erase(it);
        }
    };
    try {
        device_.submitAndWait(chosen->commands);
    } catch (...) {
        timed_.clear();
        queriesReset_ = false;
        finish();
        throw;
    }
    ++stats_.submits;

    collectTimings();
    for (const PendingDownload& d : downloads)
        std::memcpy(d.out.data(), device_.staging().mapped() + d.stagingOffset, d.out.size());
    finish();
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
