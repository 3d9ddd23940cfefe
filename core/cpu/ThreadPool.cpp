#include "cpu/ThreadPool.h"

#include <algorithm>
#include <chrono>

#include "base/Error.h"

namespace raven {

namespace {
thread_local bool tlsInsideWorker = false;
}

ThreadPool::ThreadPool(int threads) { start(threads); }

ThreadPool::~ThreadPool() { stop(); }

bool ThreadPool::insideWorker() { return tlsInsideWorker; }

void ThreadPool::setThreadCount(int threads) {
    std::lock_guard<std::mutex> run(runMutex_);
    stop();
    start(threads);
}

void ThreadPool::start(int threads) {
    RAVEN_CHECK(threads >= 1, "ThreadPool: " + std::to_string(threads) + " threads requested", "use at least 1");
    stopping_ = false;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { workerLoop(); });
}

void ThreadPool::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
}

void ThreadPool::drainChunks() {
    for (;;) {
        int64_t begin, end;
        ChunkFn fn;
        void* ctx;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (nextChunk_ >= n_) return;
            begin = nextChunk_;
            end = std::min(begin + chunk_, n_);
            nextChunk_ = end;
            fn = fn_;
            ctx = ctx_;
        }
        try {
            fn(ctx, begin, end);
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
        bool all;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            doneItems_ += end - begin;
            all = doneItems_ == n_;
        }
        if (all) done_.notify_one();
    }
}

void ThreadPool::workerLoop() {
    tlsInsideWorker = true;
    uint64_t seen = generation_.load();
    for (;;) {
        // Spin a little: the next kernel of a training step usually follows within microseconds.
        const auto spinUntil = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicroseconds);
        while (generation_.load(std::memory_order_acquire) == seen && !stopping_.load(std::memory_order_relaxed) &&
               std::chrono::steady_clock::now() < spinUntil) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        {
            std::unique_lock<std::mutex> lock(mutex_);
            if (generation_ == seen && !stopping_) {
                ++sleeping_;
                wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                --sleeping_;
            }
            if (stopping_) return;
            seen = generation_;
        }
        drainChunks();
    }
}

void ThreadPool::run(int64_t n, int64_t grain, ChunkFn fn, void* ctx) {
    std::lock_guard<std::mutex> run(runMutex_);
    const int64_t threads = threadCount();
    bool anySleeping;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        fn_ = fn;
        ctx_ = ctx;
        n_ = n;
        // About two chunks per thread balances uneven chunks without much locking.
        chunk_ = std::max(grain, (n + 2 * threads - 1) / (2 * threads));
        nextChunk_ = 0;
        doneItems_ = 0;
        error_ = nullptr;
        generation_.fetch_add(1, std::memory_order_release);
        anySleeping = sleeping_ > 0;
    }
    if (anySleeping) wake_.notify_all();
    tlsInsideWorker = true;  // nested parallelFor in the caller's chunks runs serially
    drainChunks();
    tlsInsideWorker = false;
    std::exception_ptr error;
    {
        // Every chunk is claimed; wait for those that workers are still running (not for idle workers).
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&] { return doneItems_ == n_; });
        error = error_;
        fn_ = nullptr;
        ctx_ = nullptr;
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace raven
