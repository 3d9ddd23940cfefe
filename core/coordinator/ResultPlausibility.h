#pragma once
// ResultPlausibility: whether a finite, well-formed result is believable for its unit, before it is
// paid and summed. A stranger's gradient is checked against what honest results of the same job
// looked like, so that one contributor can neither poison a step (a huge gradient makes the summed
// step NaN) nor be paid for no work (a zero gradient), nor report absurd loss or accuracy.
//
//   ResultPlausibility check;                       // one per job; forgets on restart (bounds still hold)
//   ResultFacts facts = ResultFacts::of(result);    // norm, zeros, finiteness: one pass over the gradient
//   if (auto why = check.judge(facts, unitSamples)) reject(*why);  // counted against the sender
//   else { accept(); check.learn(facts); }
//
// The reference is the median of the per-sample gradient norm and loss over the last kWindow
// accepted results. A result is implausible when:
//   - a value is not finite, or correct > samples x predictions per sample (one for a class label,
//     one per position for a sequence label: the character model predicts every next character), or
//     the loss is negative;
//   - its gradient is exactly zero while its loss is not (no work was done);
//   - its per-sample gradient norm exceeds kNormFactor x the reference (or kFirstNormBound per
//     sample before there is one), or its per-sample loss exceeds kLossFactor x the reference plus
//     kLossSlack (or kFirstLossBound before).
// Honest results stay far inside: per-sample norms and losses of one step of one job differ by a
// few times at most between units (tests/coordinator/tst_ResultPlausibility.cpp). Wrong but
// plausible results are the verification issue's to catch, by replay.
#include <QString>

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace raven::coordinator {

struct ResultFacts {
    std::uint64_t samples = 0;
    std::uint64_t correct = 0;
    double loss = 0.0;          // summed over the samples
    double gradientNorm = 0.0;  // L2 norm of the summed gradient
    bool finite = true;         // every gradient value, the loss
    std::int64_t firstNonFinite = -1;

    static ResultFacts of(const std::vector<float>& gradient, std::uint64_t samples, double loss,
                          std::uint64_t correct);
};

class ResultPlausibility {
public:
    static constexpr std::size_t kWindow = 32;
    static constexpr double kNormFactor = 50.0;
    static constexpr double kFirstNormBound = 1e4;  // per sample, before any accepted result
    static constexpr double kLossFactor = 20.0;
    static constexpr double kLossSlack = 10.0;
    static constexpr double kFirstLossBound = 1e6;  // per sample, before any accepted result

    // Nothing when plausible, else the reason (for the ResultAck and the ledger's rejection).
    std::optional<QString> judge(const ResultFacts& facts, std::uint64_t unitSamples,
                                 std::uint64_t predictionsPerSample = 1) const;
    // An accepted result joins the reference.
    void learn(const ResultFacts& facts);

private:
    static double median(const std::deque<double>& values);

    std::deque<double> normPerSample_;
    std::deque<double> lossPerSample_;
};

}  // namespace raven::coordinator
