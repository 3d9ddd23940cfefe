#include "cpu/CpuBackend.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "base/Error.h"
#include "cpu/StridedLoop.h"

namespace raven {

namespace {
int defaultThreadCount() {
    if (const char* env = std::getenv("RAVEN_CPU_THREADS")) {
        const int n = std::atoi(env);
        if (n >= 1) return n;
    }
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(hw);
}

constexpr int64_t kCopyGrain = 1 << 15;

// Freed blocks kept for reuse, by exact size. A training step allocates the same sizes every step
// (activations, gradients, optimizer temporaries); without the cache each large block is a fresh mmap
// whose pages fault in on first touch, which cost more than the arithmetic of a small model's step.
// Bounded by kMaxCachedBytes: a block that would exceed it is returned to the system. Never destroyed,
// so that a tensor freed during static destruction still finds it.
class BlockCache {
public:
    static BlockCache& instance() {
        static auto* cache = new BlockCache;
        return *cache;
    }

    float* take(size_t bytes) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = free_.find(bytes);
            if (it != free_.end() && !it->second.empty()) {
                float* p = it->second.back();
                it->second.pop_back();
                cachedBytes_ -= bytes;
                return p;
            }
        }
        auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
        if (!p) {
            release();  // the cache may hold what this needs
            p = static_cast<float*>(std::aligned_alloc(64, bytes));
            if (!p) throw std::bad_alloc();
        }
        return p;
    }

    void give(float* p, size_t bytes) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (cachedBytes_ + bytes <= kMaxCachedBytes) {
                free_[bytes].push_back(p);
                cachedBytes_ += bytes;
                return;
            }
        }
        std::free(p);
    }

    void release() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& [bytes, blocks] : free_)
            for (float* p : blocks) std::free(p);
        free_.clear();
        cachedBytes_ = 0;
    }

private:
    static constexpr size_t kMaxCachedBytes = size_t{1} << 30;
    std::mutex mutex_;
    std::unordered_map<size_t, std::vector<float*>> free_;
    size_t cachedBytes_ = 0;
};

// Whole 64-byte lines: aligned_alloc needs a multiple of the alignment.
size_t blockBytes(int64_t numel) {
    // At most 2^60 floats: the byte count and its rounding up then fit in size_t.
    RAVEN_CHECK(numel <= (int64_t{1} << 60),
                "a tensor of " + std::to_string(numel) + " elements is larger than any memory can hold",
                "use smaller shapes");
    return (static_cast<size_t>(std::max<int64_t>(numel, 1)) * sizeof(float) + 63) / 64 * 64;
}
}  // namespace

CpuStorage::CpuStorage(Backend& backend, int64_t numel) : Storage(backend, numel) {
    data_ = BlockCache::instance().take(blockBytes(numel));
}

CpuStorage::~CpuStorage() { BlockCache::instance().give(data_, blockBytes(numel())); }

void CpuBackend::releaseCachedMemory() { BlockCache::instance().release(); }

CpuBackend::CpuBackend(int threads)
    : pool_(std::make_unique<ThreadPool>(threads > 0 ? threads : defaultThreadCount())) {}

float* CpuBackend::hostData(const Tensor& t) {
    RAVEN_ASSERT(t.defined(), "CpuBackend: undefined tensor");
    auto* storage = dynamic_cast<CpuStorage*>(t.storage().get());
    RAVEN_ASSERT(storage != nullptr, "CpuBackend: tensor does not live on the CPU backend");
    return storage->data() + t.offset();
}

std::shared_ptr<Storage> CpuBackend::allocate(int64_t numel) { return std::make_shared<CpuStorage>(*this, numel); }

Tensor CpuBackend::empty(const Shape& shape) { return Tensor(allocate(numelOf(shape)), shape); }

Tensor CpuBackend::upload(const Shape& shape, const float* data) {
    Tensor t = empty(shape);
    if (t.numel() > 0) std::memcpy(hostData(t), data, static_cast<size_t>(t.numel()) * sizeof(float));
    return t;
}

std::vector<float> CpuBackend::readToHost(const Tensor& t) {
    const Tensor c = t.contiguous();
    std::vector<float> out(static_cast<size_t>(c.numel()));
    if (!out.empty()) std::memcpy(out.data(), hostData(c), out.size() * sizeof(float));
    return out;
}

Tensor CpuBackend::fill(const Shape& shape, float value) {
    Tensor t = empty(shape);
    float* out = hostData(t);
    pool_->parallelFor(t.numel(), kCopyGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) out[i] = value;
    });
    return t;
}

Tensor CpuBackend::contiguousCopy(const Tensor& src) {
    Tensor out = empty(src.shape());
    copyInto(out, src);
    return out;
}

void CpuBackend::copyInto(const Tensor& dst, const Tensor& src) {
    RAVEN_ASSERT(dst.shape() == src.shape(), "copyInto: shapes differ");
    const auto layout = cpu::coalesce<2>(dst.shape(), {&dst.strides(), &src.strides()});
    float* d = hostData(dst);
    const float* s = hostData(src);
    pool_->parallelFor(dst.numel(), kCopyGrain, [&](int64_t b, int64_t e) {
        cpu::forEachSegment<2>(layout, {0, 0}, b, e, [&](auto off, auto inner, int64_t n) {
            float* o = d + off[0];
            const float* x = s + off[1];
            if (inner[0] == 1 && inner[1] == 1) {
                std::memcpy(o, x, static_cast<size_t>(n) * sizeof(float));
            } else {
                for (int64_t i = 0; i < n; ++i) o[i * inner[0]] = x[i * inner[1]];
            }
        });
    });
}

CpuBackend& cpuBackendInstance() {
    static CpuBackend backend;
    return backend;
}

Backend& cpuBackend() { return cpuBackendInstance(); }

}  // namespace raven
