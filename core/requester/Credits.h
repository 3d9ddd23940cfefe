#pragma once
// Credits and job states as people read and type them.
//
// Amounts travel and are stored as integer micro-credits (1 credit = 1,000,000 micro-credits) so that
// ledger sums are exact; people write and read credits with up to six decimals:
//
//   parseCredits("12.5")      == 12'500'000
//   formatCredits(12'500'000) == "12.5"
//   jobStateName(wire::JOB_STATE_BUDGET_EXHAUSTED) == "budget exhausted"
#include <QString>
#include <cstdint>

#include "protocol/raven.pb.h"

namespace raven::requester {

inline constexpr std::int64_t kMicroCreditsPerCredit = 1'000'000;

// "25", "0.5", "1e3"... to micro-credits, rounded to the nearest one; raven::Error for text that is
// not a finite number >= 0 or too large for the ledger.
std::int64_t parseCredits(const QString& text);
// Credits with as many decimals as needed (at most six): "12.5", "0.000001", "-3".
QString formatCredits(std::int64_t microCredits);

// "queued", "running", "paused", "completed", "cancelled", "budget exhausted", "failed", "unknown".
QString jobStateName(wire::JobState state);
// Completed, cancelled, budget exhausted or failed: the job will not take another step by itself.
bool isFinished(wire::JobState state);

}  // namespace raven::requester
