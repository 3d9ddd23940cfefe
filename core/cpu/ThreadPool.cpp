#include "cpu/ThreadPool.h"

#include <algorithm>

#include "base/Error.h"

namespace raven {

namespace {
thread_local bool tlsInsideWorker = false;
}

ThreadPool::ThreadPool(int threads) {
    start(threads);
}

ThreadPool::~ThreadPool() {
    stop();
}

bool ThreadPool::insideWorker() {
    return tlsInsideWorker;
}

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
        int64_t begin;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (nextChunk_ >= n_) return;
            begin = nextChunk_;
            nextChunk_ += chunk_;
        }
        const int64_t end = std::min(begin + chunk_, n_);
        try {
            fn_(ctx_, begin, end);
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
    }
}

void ThreadPool::workerLoop() {
    tlsInsideWorker = true;
    uint64_t seen = 0;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
        }
        drainChunks();
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ++finished_;
        }
        done_.notify_one();
    }
}

void ThreadPool::run(int64_t n, int64_t grain, ChunkFn fn, void* ctx) {
    std::lock_guard<std::mutex> run(runMutex_);
    const int64_t threads = threadCount();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        fn_ = fn;
        ctx_ = ctx;
        n_ = n;
        // About two chunks per thread balances uneven chunks without much locking.
        chunk_ = std::max(grain, (n + 2 * threads - 1) / (2 * threads));
        nextChunk_ = 0;
        finished_ = 0;
        error_ = nullptr;
        ++generation_;
    }
    wake_.notify_all();
    tlsInsideWorker = true;  // nested parallelFor in the caller's chunks runs serially
    drainChunks();
    tlsInsideWorker = false;
    std::exception_ptr error;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&] { return finished_ == static_cast<int>(workers_.size()); });
        error = error_;
        fn_ = nullptr;
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace raven
