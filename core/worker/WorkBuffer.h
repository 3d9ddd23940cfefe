#pragma once
// WorkBuffer: how much work the worker asks for ahead, as BOINC's work buffer: it keeps between a low
// and a high water mark of units on hand, counted in units not yet computed (inputs arriving, ready,
// or computing). While at least `low` are on hand it asks for nothing; below that it asks for enough
// to reach `high`. A unit whose result is computed no longer counts, whether or not its result has
// been acknowledged: the next unit is on its way, its shards and manifest arriving while this one computes.
//
//   WorkBuffer buffer(2, 3);
//   if (int n = buffer.toRequest(onHand)) leaseRequest.set_max_units(n);
//
// low == high keeps the buffer topped up (one request per unit taken); a lower `low` batches the
// requests (fewer round trips to the coordinator, which caps what a worker may hold anyway).
namespace raven::worker {

class WorkBuffer {
public:
    // high is at least 1; low is clamped to [1, high].
    WorkBuffer(int low, int high);

    // Units to ask for with `onHand` units not yet computed: 0 at or above the low mark.
    int toRequest(int onHand) const { return onHand < low_ ? high_ - onHand : 0; }

    int low() const { return low_; }
    int high() const { return high_; }

private:
    int low_;
    int high_;
};

}  // namespace raven::worker
