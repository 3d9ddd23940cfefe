#pragma once
// GradientBuffers: the memory of gradients already summed, handed to the next results to decode into.
//
//   result.finish(GradientBuffers::shared().take(parameters));   // ingest thread: a kept buffer, or none
//   ...summed...
//   GradientBuffers::shared().giveBack(std::move(stored.gradient)); // the event loop, once in the sum
//
// Every accepted result is decoded into a vector of the model's size (0.94 MB for the MLP) on an
// ingest thread and freed once it is in the step's sum. Allocated afresh, that vector came on new
// pages often enough that zero-filling them was 88% of the coordinator's page faults and about a
// tenth of its CPU (perf, docs/benchmarks.md "Result files past the page cache; gradients decoded
// into kept memory"); a kept buffer is written once, by the decode. take() gives one of the size
// asked for or an empty vector (decode into fresh memory then); at most kKeptBytes are kept.
#include <cstddef>
#include <mutex>
#include <vector>

namespace raven::coordinator {

class GradientBuffers {
public:
    static constexpr std::size_t kKeptBytes = 256u << 20;

    // The one the coordinator's ingest and sum share.
    static GradientBuffers& shared();

    // A buffer of exactly `elements` values with unspecified contents, or an empty vector when none
    // of that size is kept.
    std::vector<float> take(std::size_t elements);
    // Keeps `buffer` for a later take() unless that would pass kKeptBytes. A buffer of another size
    // than those kept (another job's model) replaces them all: one size is kept at a time.
    void giveBack(std::vector<float>&& buffer);

    std::size_t keptBuffers() const;
    // How many take()s found a buffer, and how many did not.
    std::size_t reused() const;
    std::size_t missed() const;

private:
    mutable std::mutex mutex_;
    std::vector<std::vector<float>> kept_;
    std::size_t reused_ = 0;
    std::size_t missed_ = 0;
};

}  // namespace raven::coordinator
