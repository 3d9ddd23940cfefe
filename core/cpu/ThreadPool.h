#pragma once
// ThreadPool: the CPU backend's own workers (std::thread), used by every kernel through parallelFor.
//
// parallelFor(n, grain, body) splits [0, n) into contiguous chunks of at least `grain` items and calls
// body(begin, end) on them from the workers and the calling thread, returning when all are done.
// Kernels only ever split independent outputs (each output element is computed by one call in a
// fixed order), so results never depend on the number of threads or on which thread ran a chunk.
// Work smaller than `grain`, or a parallelFor called from inside a worker, runs on the calling thread.
// An exception thrown by a chunk is rethrown in the caller (the first one wins).
//
// Latency: a training step of a small model is a few hundred kernels of tens of microseconds, so
// hand-offs must be cheap. The caller works on chunks itself and returns as soon as every chunk is
// done, without waiting for workers that never got one (on a busy machine a sleeping worker may not
// run for milliseconds). Idle workers spin for a short while (kSpinMicroseconds) before they sleep,
// and the caller only signals the condition variable when a worker sleeps.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace raven {

class ThreadPool {
public:
    // threads = total threads including the caller (>= 1).
    explicit ThreadPool(int threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int threadCount() const { return static_cast<int>(workers_.size()) + 1; }
    // Stops the workers and starts `threads - 1` new ones. Not to be called while work is running.
    void setThreadCount(int threads);

    template <class Body>
    void parallelFor(int64_t n, int64_t grain, Body&& body) {
        if (n <= 0) return;
        if (grain < 1) grain = 1;
        if (workers_.empty() || n <= grain || insideWorker()) {
            body(int64_t{0}, n);
            return;
        }
        run(
            n, grain, [](void* ctx, int64_t b, int64_t e) { (*static_cast<Body*>(ctx))(b, e); }, &body);
    }

private:
    using ChunkFn = void (*)(void*, int64_t, int64_t);
    void run(int64_t n, int64_t grain, ChunkFn fn, void* ctx);
    void workerLoop();
    void drainChunks();
    static bool insideWorker();
    void start(int threads);
    void stop();

    static constexpr int kSpinMicroseconds = 50;

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    // Read without the lock by spinning workers; written under it.
    std::atomic<uint64_t> generation_{0};
    std::atomic<bool> stopping_{false};
    int sleeping_ = 0;  // workers blocked on wake_ (guarded by mutex_)
    // The current job, guarded by mutex_. A chunk is claimed under the lock together with fn_ and
    // ctx_, so a worker that wakes late only ever helps with the job in progress.
    ChunkFn fn_ = nullptr;
    void* ctx_ = nullptr;
    int64_t n_ = 0;
    int64_t chunk_ = 0;
    int64_t nextChunk_ = 0;
    int64_t doneItems_ = 0;
    std::exception_ptr error_;
    std::mutex runMutex_;  // one parallelFor at a time from outside the pool
};

}  // namespace raven
