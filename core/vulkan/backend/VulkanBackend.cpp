// VulkanBackend: memory, transfers, lazy submission, deferred frees, fill and strided copies.
#include "vulkan/backend/VulkanBackend.h"

#include "base/Error.h"
#include "vulkan/backend/BindingWindow.h"
#include "vulkan/backend/StridedLayout.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace raven {

using vulkan::Access;
using vulkan::BufferRange;
using vulkan::Recorder;

namespace {

struct CopyPush {
    uint32_t n, rank, dstOffset, srcOffset;
    uint32_t shape[vkb::kMaxRank];
    uint32_t dstStride[vkb::kMaxRank];
    uint32_t srcStride[vkb::kMaxRank];
};

struct FillPush {
    uint32_t n, offset, value;
};

std::uint32_t workgroupSizeFor(const vulkan::DeviceInfo& info) {
    // 256 suits most GPUs; stay within what this device allows, and a whole number of subgroups.
    std::uint32_t size = std::min({256u, info.maxComputeWorkGroupSize[0], info.maxComputeWorkGroupInvocations});
    if (info.subgroupSize > 0 && size > info.subgroupSize) size -= size % info.subgroupSize;
    return std::max(size, 1u);
}

}  // namespace

VulkanStorage::VulkanStorage(VulkanBackend& backend, int64_t numel, vulkan::Buffer buffer)
    : Storage(backend, numel), owner_(backend), buffer_(std::move(buffer)) {
    ++owner_.liveStorages_;
}

VulkanStorage::~VulkanStorage() {
    --owner_.liveStorages_;
    owner_.retire(std::move(buffer_));
}

VulkanBackend::VulkanBackend(std::shared_ptr<vulkan::Instance> instance, const VulkanBackendOptions& options)
    : instance_(std::move(instance)) {
    device_ = std::make_unique<vulkan::Device>(instance_, options.device);
    recorder_ = std::make_unique<Recorder>(*device_);
    const vulkan::DeviceInfo& info = device_->info();
    elementwiseGroup_ = workgroupSizeFor(info);
    maxDeferredBytes_ = options.maxDeferredBytes;
    if (maxDeferredBytes_ == 0)
        maxDeferredBytes_ = std::clamp<VkDeviceSize>(info.deviceLocalBytes / 4, 64ull << 20, 1ull << 30);
    const char* profile = std::getenv("RAVEN_VULKAN_PROFILE");
    if (profile && *profile && std::string(profile) != "0") {
        printProfileAtExit_ = setProfiling(true);
        if (!printProfileAtExit_)
            std::fprintf(stderr, "raven: RAVEN_VULKAN_PROFILE: %s has no timestamps on its compute queue\n",
                         info.name.c_str());
    }
}

VulkanBackend::~VulkanBackend() {
    RAVEN_ASSERT(liveStorages_ == 0, "a VulkanBackend was destroyed while tensors on it still exist");
    try {
        recorder_->submit();  // nothing may still run on buffers that are about to be freed
    } catch (const std::exception&) {
        // The device failed; its buffers are destroyed below either way.
    }
    retired_.clear();
    checks_.clear();
    scalars_.clear();
    if (printProfileAtExit_ && !profile().empty())
        std::fprintf(stderr, "raven: per-kernel GPU time on %s\n%s", device_->info().name.c_str(),
                     profileTable().c_str());
    recorder_.reset();
}

std::string VulkanBackend::profileTable() const {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%-28s %9s %11s %11s %10s %9s\n", "kernel", "dispatches", "total ms",
                  "us/dispatch", "GFLOP/s", "GB/s");
    out += line;
    double seconds = 0;
    std::size_t dispatches = 0;
    for (const vulkan::Recorder::OpProfile& p : profile()) {
        const double s = std::max(p.seconds, 1e-12);
        std::snprintf(line, sizeof line, "%-28s %9zu %11.3f %11.2f %10.1f %9.1f\n", p.kind.c_str(), p.dispatches,
                      p.seconds * 1e3, p.seconds * 1e6 / static_cast<double>(std::max<std::size_t>(p.dispatches, 1)),
                      p.flops / s * 1e-9, p.bytes / s * 1e-9);
        out += line;
        seconds += p.seconds;
        dispatches += p.dispatches;
    }
    std::snprintf(line, sizeof line, "%-28s %9zu %11.3f\n", "total", dispatches, seconds * 1e3);
    out += line;
    return out;
}

std::string VulkanBackend::name() const { return "vulkan:" + device_->info().name; }

void VulkanBackend::retire(vulkan::Buffer buffer) noexcept {
    if (!buffer.valid()) return;
    // With nothing recorded, no work can still use it: free it now, so that the next allocation of its
    // size gets it back (a step that starts after a sync point then allocates as the last one did).
    if (recorder_->empty()) return;
    retiredBytes_ += buffer.size();
    retired_.push_back(std::move(buffer));
}

void VulkanBackend::flush() {
    for (StatusCheck& check : checks_)
        recorder_->download(check.word.range(), std::as_writable_bytes(std::span<std::uint32_t>(&check.value, 1)));
    recorder_->submit();
    retired_.clear();
    retiredBytes_ = 0;
    scalars_.clear();
    std::vector<StatusCheck> checks = std::move(checks_);
    checks_.clear();
    for (const StatusCheck& check : checks) {
        if (check.value != UINT32_MAX)
            fail(check.describe(check.value), "fix the input data; the backend is usable again");
    }
}

std::shared_ptr<Storage> VulkanBackend::allocate(int64_t numel) {
    RAVEN_ASSERT(numel >= 0, "VulkanBackend::allocate: negative size");
    if (retiredBytes_ > maxDeferredBytes_) flush();
    const auto bytes = static_cast<VkDeviceSize>(std::max<int64_t>(numel, 1)) * sizeof(float);
    const vulkan::DeviceInfo& info = device_->info();
    // Kernels index with 32-bit element offsets (counted from a binding window's start, so a storage may
    // exceed one binding); a storage is one allocation.
    const VkDeviceSize largest = info.maxMemoryAllocationSize > 0 ? info.maxMemoryAllocationSize : ~VkDeviceSize{0};
    RAVEN_CHECK(bytes <= largest && numel < static_cast<int64_t>(UINT32_MAX),
                "a tensor of " + std::to_string(numel) + " floats is larger than one allocation on " + info.name +
                    " allows (" + std::to_string(std::min<VkDeviceSize>(largest, VkDeviceSize{UINT32_MAX} * 4)) +
                    " bytes)",
                "use smaller batches or layers, or the CPU backend");
    return std::make_shared<VulkanStorage>(*this, numel, device_->createBuffer(bytes));
}

Tensor VulkanBackend::empty(const Shape& shape) { return Tensor(allocate(numelOf(shape)), shape); }

const BufferRange& VulkanBackend::rangeOf(const Tensor& t) const {
    RAVEN_ASSERT(t.defined(), "VulkanBackend: undefined tensor");
    const auto* storage = dynamic_cast<const VulkanStorage*>(t.storage().get());
    RAVEN_ASSERT(storage != nullptr && &storage->backend() == this, "VulkanBackend: tensor lives on another backend");
    return storage->range();
}

Tensor VulkanBackend::upload(const Shape& shape, const float* data) {
    Tensor t = empty(shape);
    if (t.numel() == 0) return t;
    const BufferRange& range = rangeOf(t);
    const std::size_t bytes = static_cast<std::size_t>(t.numel()) * sizeof(float);
    recorder_->upload({range.buffer, range.offset, bytes}, std::as_bytes(std::span<const float>(data, bytes / 4)));
    return t;
}

std::vector<float> VulkanBackend::readToHost(const Tensor& t) {
    std::vector<float> out(static_cast<std::size_t>(t.numel()));
    if (!out.empty()) {
        const Tensor c = t.isContiguous() ? t : contiguousCopy(t);
        const BufferRange& range = rangeOf(c);
        recorder_->download({range.buffer, range.offset + static_cast<VkDeviceSize>(c.offset()) * sizeof(float),
                             out.size() * sizeof(float)},
                            std::span<float>(out));
    }
    flush();
    return out;
}

void VulkanBackend::synchronize() { flush(); }

void VulkanBackend::fillWords(const BufferRange& range, std::uint64_t offset, std::uint64_t n, std::uint32_t value) {
    if (n == 0) return;
    const std::uint32_t local = elementwiseGroup_;
    const vulkan::Pipeline& fill = pipeline({"fill_words", 1, sizeof(FillPush), {local}});
    const vkb::BindingWindows windows(*device_);
    const auto total = static_cast<int64_t>(n);
    const int64_t part = windows.fitsWhole(range) ? total : windows.capacity();
    for (int64_t done = 0; done < total; done += part) {
        const int64_t count = std::min(part, total - done);
        const int64_t first = static_cast<int64_t>(offset) + done;
        const vkb::BindingWindow w = windows.over(range, first, count);
        const FillPush push{vkb::narrowToU32(count), vkb::narrowToU32(first - w.start), value};
        recorder_->dispatch(fill, {{w.range, Access::Write}}, push,
                            Recorder::groupsFor(static_cast<std::uint64_t>(count), local));
    }
}

BufferRange VulkanBackend::stepScalars(std::span<const float> values) {
    const std::span<const std::byte> bytes = std::as_bytes(values);
    for (const ScalarBlock& block : scalars_)
        if (block.bytes.size() == bytes.size() && std::equal(bytes.begin(), bytes.end(), block.bytes.begin()))
            return block.buffer.range();
    ScalarBlock block;
    block.buffer = device_->createBuffer(bytes.size());
    block.bytes.assign(bytes.begin(), bytes.end());
    recorder_->upload(block.buffer.range(), bytes);
    scalars_.push_back(std::move(block));
    return scalars_.back().buffer.range();
}

BufferRange VulkanBackend::statusWord(std::function<std::string(std::uint32_t)> describe) {
    StatusCheck check;
    check.word = device_->createBuffer(sizeof(std::uint32_t));
    check.describe = std::move(describe);
    fillWords(check.word.range(), 0, 1, UINT32_MAX);
    checks_.push_back(std::move(check));
    return checks_.back().word.range();
}

Tensor VulkanBackend::fill(const Shape& shape, float value) {
    Tensor t = empty(shape);
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    fillWords(rangeOf(t), 0, static_cast<std::uint64_t>(t.numel()), bits);
    return t;
}

Tensor VulkanBackend::contiguousCopy(const Tensor& src) {
    Tensor out = empty(src.shape());
    copyInto(out, src);
    return out;
}

void VulkanBackend::copyInto(const Tensor& dst, const Tensor& src) {
    RAVEN_ASSERT(dst.shape() == src.shape(), "VulkanBackend::copyInto: shapes differ");
    if (dst.numel() == 0) return;
    const std::uint32_t local = elementwiseGroup_;
    const auto layout = vkb::coalesce<2>(dst.shape(), {&dst.strides(), &src.strides()});
    const vkb::BindingWindows windows(*device_);
    const BufferRange &dstStorage = rangeOf(dst), &srcStorage = rangeOf(src);
    const std::array<bool, 2> windowed{!windows.fitsWhole(dstStorage), !windows.fitsWhole(srcStorage)};
    vkb::forEachBlock(layout, [&](const vkb::StridedBlock<2>& block) {
        vkb::splitToFit(block, windowed, windows.capacity(), [&](const vkb::StridedBlock<2>& part) {
            const int64_t dstFirst = dst.offset() + part.offsets[0], srcFirst = src.offset() + part.offsets[1];
            const vkb::BindingWindow dw = windows.over(dstStorage, dstFirst, vkb::reachOf(part, 0));
            const vkb::BindingWindow sw = windows.over(srcStorage, srcFirst, vkb::reachOf(part, 1));
            CopyPush push{};
            push.n = part.count;
            push.rank = part.rank;
            push.dstOffset = vkb::narrowToU32(dstFirst - dw.start);
            push.srcOffset = vkb::narrowToU32(srcFirst - sw.start);
            std::copy_n(part.shape.begin(), vkb::kMaxRank, push.shape);
            std::copy_n(part.strides[0].begin(), vkb::kMaxRank, push.dstStride);
            std::copy_n(part.strides[1].begin(), vkb::kMaxRank, push.srcStride);
            const bool vec4 = vkb::isVectorRun(part, {int64_t{push.dstOffset}, int64_t{push.srcOffset}});
            const vulkan::Pipeline& copy = pipeline({"copy_strided", 2, sizeof(CopyPush), {local, vec4 ? 1u : 0u}});
            recorder_->describeNext("copy", 0, 8.0 * part.count);
            recorder_->dispatch(copy, {{sw.range, Access::Read}, {dw.range, Access::Write}}, push,
                                Recorder::groupsFor(vec4 ? (part.count + 3) / 4 : part.count, local));
        });
    });
}

std::unique_ptr<Backend> makeVulkanBackend(const std::string& selector) {
    // One instance per process is enough; it lives as long as some backend uses it.
    static std::weak_ptr<vulkan::Instance> shared;
    std::shared_ptr<vulkan::Instance> instance = shared.lock();
    if (!instance) {
        instance = std::make_shared<vulkan::Instance>();
        shared = instance;
    }
    VulkanBackendOptions options;
    options.device.selector = selector;
    return std::make_unique<VulkanBackend>(std::move(instance), options);
}

}  // namespace raven
