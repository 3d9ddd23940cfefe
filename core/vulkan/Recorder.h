#pragma once
// Recording GPU work and submitting it once, and submitting it again when the same work repeats.
//
// A Recorder collects uploads, dispatches and downloads; submit() sends them to the compute queue as
// one command buffer, waits on the device's fence, then fills the host memory of the downloads.
// Per-op submission would make small models slower on a GPU than on a CPU: a whole training step
// (forward, backward, optimizer) is one submission.
//
// Each binding says whether the dispatch reads or writes its range. The Recorder remembers what was
// written and read since the last barrier and inserts a pipeline barrier (with buffer memory barriers
// for the written ranges) only before a command that depends on them: read-after-write,
// write-after-write or write-after-read on overlapping bytes. Independent dispatches run without
// barriers between them.
//
//   Recorder rec(device);
//   rec.upload(a.range(), hostA);
//   rec.dispatch(pipeline, {{a.range(), Access::Read}, {c.range(), Access::Write}}, Push{n},
//                Recorder::groupsFor(n, localSize));
//   rec.download(c.range(), hostC);
//   rec.submit();                         // hostC is filled now
//
// Reuse: the commands are first logged as plain data (pipeline, bound ranges, push constants, groups,
// copies with their staging offsets, barriers); only submit() turns the log into a command buffer.
// A log equal, word for word, to one recorded before (the last kCachedRecordings are kept) resubmits
// that command buffer as it is: no vkCmd* call, no descriptor write. Training repeats itself this way:
// the same ops on the same shapes allocate the same ranges of the memory pool and the same staging
// slices every step, and the data that changes (the batch, step-dependent scalars) travels through
// staging uploads, whose bytes are not part of the log. Anything else that changes (a shape, a push
// constant) is a new log and a new recording. A command buffer that names a buffer since given back to
// the driver is never resubmitted (MemoryPool::generation()). Stats tell recordings from reuses.
//
// A dispatch with more workgroups than the device allows per dimension is split into several
// vkCmdDispatchBase calls (see Pipeline.h for what that asks of shaders). Uploads and downloads go
// through the device's staging ring; when it is full the Recorder submits what it has, waits, and goes
// on (results are the same, only the number of submissions grows). Only one Recorder at a time may
// use the staging ring.
//
// Profiling (off by default): each dispatch is bracketed by two timestamp queries written at the
// compute stage, and after each submission its time is added to the entry of its kind (the label
// describeNext() gave, else the shader's name), with the work the caller declared (FLOPs, bytes
// moved) for GFLOP/s and GB/s. Dispatches that the device overlaps are timed from the end of the
// earlier ones, so each kind's share is approximate while the total is the submission's GPU time.
// A full query pool (kQueriesPerSubmit) makes the Recorder submit early, as a full staging ring does.
#include "vulkan/Memory.h"
#include "vulkan/Pipeline.h"

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace raven::vulkan {

class Device;

enum class Access { Read, Write, ReadWrite };

struct Binding {
    BufferRange range;
    Access access = Access::ReadWrite;
};

struct Groups {
    std::uint32_t x = 1;
    std::uint32_t y = 1;
    std::uint32_t z = 1;
};

class Recorder {
public:
    explicit Recorder(Device& device);
    ~Recorder();  // what was recorded but not submitted is dropped
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Copies host bytes into dst (sizes must match); the data is copied into staging now, so `data`
    // may change after the call.
    void upload(const BufferRange& dst, std::span<const std::byte> data);
    void upload(const BufferRange& dst, std::span<const float> data) { upload(dst, std::as_bytes(data)); }
    // Copies src into `out` (sizes must match) when the work is submitted; `out` must stay alive until then.
    void download(const BufferRange& src, std::span<std::byte> out);
    void download(const BufferRange& src, std::span<float> out) { download(src, std::as_writable_bytes(out)); }

    // Records one compute dispatch. bindings.size() must equal the pipeline's binding count and
    // push.size() its push-constant size; each binding's offset must be a multiple of
    // minStorageBufferOffsetAlignment and its size at most Device::maxBindingBytes().
    void dispatch(const Pipeline& pipeline, std::span<const Binding> bindings, std::span<const std::byte> push,
                  Groups groups);
    template <class Push>
    requires std::is_trivially_copyable_v<Push>
    void dispatch(const Pipeline& pipeline, std::initializer_list<Binding> bindings, const Push& push, Groups groups) {
        dispatch(pipeline, std::span<const Binding>(bindings.begin(), bindings.size()),
                 std::as_bytes(std::span<const Push, 1>(&push, 1)), groups);
    }

    // Submits everything recorded, waits for it, completes the downloads. The Recorder is empty and
    // reusable afterwards. Does nothing when nothing was recorded.
    void submit();
    // Nothing recorded since the last submit: no command refers to any buffer, and all submitted work
    // has completed.
    bool empty() const noexcept { return commands_.empty(); }

    // Workgroups along x for `invocations` threads of `localSize`: ceil(invocations / localSize).
    static Groups groupsFor(std::uint64_t invocations, std::uint32_t localSize);

    // Counted as the work is recorded (dispatches and barriers before submit()).
    struct Stats {
        std::size_t dispatchCalls = 0;  // vkCmdDispatch/vkCmdDispatchBase calls (a split dispatch counts each)
        std::size_t barriers = 0;       // vkCmdPipelineBarrier calls for hazards between commands
        std::size_t submits = 0;        // queue submissions
        std::size_t descriptorPools = 0;
        std::size_t commandBuffersRecorded = 0;  // submissions whose command buffer was recorded anew
        std::size_t commandBuffersReused = 0;    // submissions that resubmitted an earlier recording
    };
    const Stats& stats() const noexcept { return stats_; }

    // Per-kind totals of the dispatches timed since profiling was turned on (or resetProfile()).
    struct OpProfile {
        std::string kind;
        std::size_t dispatches = 0;
        double seconds = 0;
        double flops = 0;  // as declared by describeNext (0: not a FLOP-bound kernel)
        double bytes = 0;  // declared, else the sizes of the bound ranges
    };
    // Turns per-dispatch timestamps on or off. Returns false (and stays off) when the device's compute
    // queue has no timestamps.
    bool setProfiling(bool on);
    bool profiling() const noexcept { return profiling_; }
    // Names the kind of the next dispatch and the work it does; ignored when not profiling.
    void describeNext(std::string kind, double flops, double bytes);
    // Entries in order of first appearance; complete only after submit().
    const std::vector<OpProfile>& profile() const noexcept { return profile_; }
    void resetProfile() { profile_.clear(); }
    static constexpr std::uint32_t kQueriesPerSubmit = 4096;
    // Recorded command buffers kept for resubmission (the least recently used is recorded over).
    static constexpr std::size_t kCachedRecordings = 8;

private:
    struct PendingDownload {
        VkDeviceSize stagingOffset;
        std::span<std::byte> out;
    };
    // One logged command. Ranges (bindings, barrier ranges) and push bytes live in ranges_ / push_.
    enum class Op : std::uint32_t { Copy = 1, Barrier, Dispatch, ResetQueries, Timestamp, HostBarrier };
    struct Command {
        Op op = Op::Copy;
        VkBuffer src = VK_NULL_HANDLE, dst = VK_NULL_HANDLE;  // Copy
        VkBufferCopy region{};
        const Pipeline* pipeline = nullptr;  // Dispatch
        Groups groups;
        std::uint32_t first = 0, count = 0;          // ranges_ (Barrier, Dispatch)
        std::uint32_t pushFirst = 0, pushBytes = 0;  // push_ (Dispatch)
        std::uint32_t query = 0;                     // Timestamp
    };
    // A command buffer recorded from a log, with the descriptor sets it binds.
    struct Recording {
        VkCommandBuffer commands = VK_NULL_HANDLE;
        std::vector<VkDescriptorPool> pools;
        std::size_t currentPool = 0;
        std::vector<std::uint64_t> key;  // the log it was recorded from
        std::uint64_t hash = 0;
        std::uint64_t lastUse = 0;
    };

    void log(const Command& command, std::initializer_list<std::uint64_t> words);
    void acquireStaging();
    VkDeviceSize stagingSlice(VkDeviceSize bytes, VkDeviceSize& granted);
    void orderBefore(std::span<const Binding> uses);  // logs a barrier when a use depends on earlier work
    void remember(std::span<const Binding> uses);
    void releaseStaging() noexcept;
    Recording& freshRecording();
    void record(Recording& recording);
    VkDescriptorSet allocateSet(Recording& recording, VkDescriptorSetLayout layout);
    void resetRecording(Recording& recording);
    void destroyRecording(Recording& recording) noexcept;
    void clearLog() noexcept;

    Device& device_;
    bool ownsStaging_ = false;
    std::vector<BufferRange> written_;  // since the last barrier
    std::vector<BufferRange> read_;
    std::vector<PendingDownload> downloads_;
    std::vector<Command> commands_;  // the log since the last submit
    std::vector<BufferRange> ranges_;
    std::vector<std::byte> push_;
    std::vector<std::uint64_t> key_;                  // the log word by word: equal keys record equal command buffers
    std::vector<std::unique_ptr<Recording>> cached_;  // kept for resubmission
    std::vector<std::unique_ptr<Recording>> spare_;   // reset, ready to record into
    std::uint64_t useClock_ = 0;
    std::uint64_t memoryGeneration_ = 0;  // of the pool when cached_ was last checked
    Stats stats_;

    struct TimedDispatch {
        std::string kind;
        double flops, bytes;
    };
    void collectTimings();
    bool profiling_ = false;
    VkQueryPool queries_ = VK_NULL_HANDLE;
    bool queriesReset_ = false;         // in the command buffer being recorded
    std::vector<TimedDispatch> timed_;  // query pair 2i, 2i+1 brackets timed_[i]
    std::string nextKind_;
    double nextFlops_ = 0, nextBytes_ = -1;  // -1: not described
    std::vector<OpProfile> profile_;
};

}  // namespace raven::vulkan
