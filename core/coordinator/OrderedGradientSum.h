#pragma once
// OrderedGradientSum: a step's accepted gradients summed as they are accepted, in unit id order.
//
//   OrderedGradientSum sum(parameterCount);
//   sum.advance(stepUnits, take);   // after each accepted batch: sums the done prefix, frees each summand
//   ... all done: sum.summed() == stepUnits.size(); sum.takeGradient() is the step's summed gradient
//
// The step's gradient is the sum of its units' gradients in unit id order (so that it does not
// depend on the order results arrived in). Here that sum is built while the step's results arrive:
// `advance` walks the step's units in id order from the first not yet summed, and while the next
// one is done it takes its result (`take`: from memory, or from its durable file when it was
// accepted before a restart), adds it and frees it. A unit done before its predecessors waits (in
// the caller's memory) until they are summed. Each float of the sum sees the same additions in the
// same order as summing all results at the step (training::averageGradients): the same bits. The
// additions of a run of results are split into slices of the gradient, each slice summed in unit
// order on its own thread.
//
// Nothing here is durable: the results' files are, until the step's state is (JobRunner), so a
// crash mid-step recomputes this sum from them.
#include <QList>
#include <QThreadPool>

#include <cstdint>
#include <functional>
#include <vector>

#include "ledger/StoreTypes.h"

namespace raven::coordinator {

// A unit's accepted result as it is kept until it is summed.
struct StoredResult {
    std::vector<float> gradient;
    std::int64_t samples = 0;
    double lossSum = 0.0;
    std::int64_t correct = 0;
    ledger::ContributorId contributor = 0;
};

class OrderedGradientSum {
public:
    using Take = std::function<StoredResult(ledger::WorkUnitId)>;

    explicit OrderedGradientSum(std::size_t parameters);

    // `units`: the step's units in id order (the same list each time, states as the store has them
    // now). Sums the results of the done units that follow the ones already summed, up to the first
    // one not done. raven::Error when `units` does not continue what was summed (another step's
    // list) or a result has the wrong size; nothing of that call is summed then.
    void advance(const QList<ledger::WorkUnit>& units, const Take& take);

    std::size_t summed() const { return summedIds_.size(); }
    // The sums over the units summed so far, in id order.
    const std::vector<float>& gradient() const { return sum_; }
    std::int64_t samples() const { return samples_; }
    double lossSum() const { return lossSum_; }
    std::int64_t correct() const { return correct_; }
    const QList<ledger::ContributorId>& contributors() const { return contributors_; }

    // The summed gradient, moved out; the sum starts again empty (the next step).
    std::vector<float> takeGradient();
    void reset();

private:
    void addRun(const std::vector<StoredResult>& run);

    std::size_t parameters_;
    std::vector<float> sum_;
    std::vector<ledger::WorkUnitId> summedIds_;
    std::int64_t samples_ = 0;
    double lossSum_ = 0.0;
    std::int64_t correct_ = 0;
    QList<ledger::ContributorId> contributors_;
    QThreadPool slices_;  // threads for the slices of a run's additions
};

}  // namespace raven::coordinator
