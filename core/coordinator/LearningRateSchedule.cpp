#include "coordinator/LearningRateSchedule.h"

#include <algorithm>
#include <cmath>

#include "base/Error.h"

namespace raven::coordinator {

namespace {

constexpr std::uint64_t kMaxSteps = 1ull << 40;
constexpr double kDefaultWarmupStartFactor = 1.0 / 3.0;  // LinearLR's

double startFactorOf(const wire::LearningRateSchedule& s) {
    return s.warmup_start_factor() == 0.0 ? kDefaultWarmupStartFactor : s.warmup_start_factor();
}

}  // namespace

nn::LrSchedule scheduleOf(const wire::LearningRateSchedule& s, double baseRate, std::int64_t totalSteps) {
    nn::LrSchedule out;
    out.base = baseRate;
    switch (s.kind()) {
        case wire::LEARNING_RATE_SCHEDULE_KIND_STEP:
            out.kind = nn::LrScheduleKind::Step;
            out.stepSize = static_cast<std::int64_t>(std::max<std::uint64_t>(1, s.step_size()));
            out.gamma = s.gamma();
            break;
        case wire::LEARNING_RATE_SCHEDULE_KIND_COSINE: {
            out.kind = nn::LrScheduleKind::Cosine;
            out.warmupSteps = static_cast<std::int64_t>(s.warmup_steps());
            out.warmupStartFactor = startFactorOf(s);
            // A job shorter than its warm-up still has one step of cosine after it (never a 0 span).
            const std::int64_t cycle = s.cycle_steps() != 0 ? static_cast<std::int64_t>(s.cycle_steps())
                                                            : std::max<std::int64_t>(1, totalSteps - out.warmupSteps);
            out.totalSteps = out.warmupSteps + cycle;
            out.minLr = std::min(s.min_learning_rate(), baseRate);
            break;
        }
        default:
            out.kind = nn::LrScheduleKind::Constant;
    }
    return out;
}

double learningRateAt(const wire::LearningRateSchedule& s, double baseRate, std::int64_t step,
                      std::int64_t totalSteps) {
    return scheduleOf(s, baseRate, totalSteps).at(step);
}

void validateSchedule(const wire::LearningRateSchedule& s) {
    switch (s.kind()) {
        case wire::LEARNING_RATE_SCHEDULE_KIND_UNSPECIFIED:
        case wire::LEARNING_RATE_SCHEDULE_KIND_CONSTANT:
            break;
        case wire::LEARNING_RATE_SCHEDULE_KIND_STEP:
            RAVEN_CHECK(s.step_size() > 0 && s.step_size() <= kMaxSteps,
                        "hyperparameters: a step decay needs a step_size above 0",
                        "give the steps between two decays, e.g. 100");
            RAVEN_CHECK(s.gamma() > 0.0 && s.gamma() <= 1.0,
                        "hyperparameters: the step decay's gamma " + std::to_string(s.gamma()) + " is not in (0, 1]",
                        "give the factor each decay multiplies the rate by, e.g. 0.5");
            break;
        case wire::LEARNING_RATE_SCHEDULE_KIND_COSINE:
            RAVEN_CHECK(std::isfinite(s.min_learning_rate()) && s.min_learning_rate() >= 0.0,
                        "hyperparameters: the cosine schedule's min_learning_rate is negative",
                        "give 0 or a small positive rate below the learning rate");
            RAVEN_CHECK(s.cycle_steps() <= kMaxSteps, "hyperparameters: cycle_steps is absurdly large",
                        "use 0 for the job's own length");
            RAVEN_CHECK(s.warmup_steps() <= kMaxSteps, "hyperparameters: warmup_steps is absurdly large",
                        "give the warm-up in optimizer steps, e.g. 100");
            RAVEN_CHECK(
                s.warmup_start_factor() >= 0.0 && s.warmup_start_factor() <= 1.0,
                "hyperparameters: warmup_start_factor " + std::to_string(s.warmup_start_factor()) + " is not in (0, 1]",
                "give the fraction of the rate the warm-up starts at, e.g. 0.01");
            break;
        default:
            raven::fail("hyperparameters: unknown learning-rate schedule " + std::to_string(s.kind()),
                        "use constant, step, or cosine (with an optional warm-up)");
    }
    if (s.kind() != wire::LEARNING_RATE_SCHEDULE_KIND_COSINE)
        RAVEN_CHECK(s.warmup_steps() == 0, "hyperparameters: a warm-up goes with the cosine schedule only",
                    "choose the cosine schedule, or no warm-up");
}

}  // namespace raven::coordinator
