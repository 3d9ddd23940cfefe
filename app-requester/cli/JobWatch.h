#pragma once
// Following a job in the terminal, for `raven watch JOB` and `raven submit --watch`: a live line with
// the step, train loss, samples/s and workers, a line per evaluation and per state change, and the
// exit status: 0 when the job completes, 1 when it fails, is cancelled or runs out of budget.
#include <QString>

#include "requester/BlockingRequester.h"

namespace raven::cli {

int watchJob(requester::BlockingRequester& coordinator, const QString& jobId);

}  // namespace raven::cli
