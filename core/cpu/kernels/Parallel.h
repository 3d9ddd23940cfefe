#pragma once
// How the CPU kernels use threads without letting threads change the numbers.
//
// A kernel cuts its work into ITEMS whose number and extent depend on the logical shape alone (a sample,
// a channel, a block of columns) and hands them to a ParallelFor. The ParallelFor may run any
// contiguous range [begin, end) of items on any thread; every item computes the same bits whichever
// thread runs it, and any reduction across items is done afterwards, in item order. So the results of
// every kernel are identical for 1 thread and for 64 (the basis of Raven's verifiable kernel mode).
//
// The backend passes a ParallelFor backed by its thread pool; an empty one runs everything serially
// on the calling thread.
#include <cstdint>
#include <functional>

namespace raven::cpu::kernels {

// Runs body(begin, end) over ranges that together cover [0, n) exactly once, possibly concurrently,
// and returns when all have finished.
using ParallelFor = std::function<void(int64_t n, const std::function<void(int64_t begin, int64_t end)>& body)>;

// Runs body on every item in [0, n): through parallel when it is set (and there is more than one item),
// else serially here.
inline void forEachItem(const ParallelFor& parallel, int64_t n,
                        const std::function<void(int64_t begin, int64_t end)>& body) {
    if (n <= 0) return;
    if (parallel && n > 1)
        parallel(n, body);
    else
        body(0, n);
}

}  // namespace raven::cpu::kernels
