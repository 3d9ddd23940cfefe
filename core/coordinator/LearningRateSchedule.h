#pragma once
// The learning rate of each optimizer step of a job: the requester's wire::LearningRateSchedule
// (raven.proto has the formulas) read as nn::LrSchedule, the closed forms of PyTorch's schedulers.
// The coordinator sets the rate before every step from (schedule, step, the job's total steps) alone,
// so a restarted coordinator or a replayed step uses the same rate (tests/coordinator/
// tst_LearningRateSchedule.cpp compares whole sequences with torch.optim.lr_scheduler).
//
//   validateSchedule(h.lr_schedule());                                 // at CreateJob: raven::Error
//   optimizer.setLearningRate(learningRateAt(h.lr_schedule(), 1e-3, version, plan.totalSteps()));
#include <cstdint>

#include "nn/LrSchedule.h"
#include "protocol/raven.pb.h"

namespace raven::coordinator {

// The schedule of a job of `totalSteps` steps whose optimizer's rate is `baseRate`.
nn::LrSchedule scheduleOf(const wire::LearningRateSchedule& schedule, double baseRate, std::int64_t totalSteps);

// `step`: the optimizer steps taken before this one (the model version being updated), from 0.
double learningRateAt(const wire::LearningRateSchedule& schedule, double baseRate, std::int64_t step,
                      std::int64_t totalSteps);

// raven::Error naming the field for a schedule that cannot run whatever the job's length: an unknown
// kind, a step decay without a step size or with gamma outside (0, 1], a negative minimum, a
// warm-up on a schedule other than cosine, a start factor outside (0, 1], absurd step counts.
void validateSchedule(const wire::LearningRateSchedule& schedule);

}  // namespace raven::coordinator
