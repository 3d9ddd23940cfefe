#pragma once
// Learning-rate schedules: the rate for optimizer step t (t = 0 for the first step), as closed forms
// that equal PyTorch's schedulers stepped once per optimizer step:
//
//   constant   lr(t) = base                                                (no scheduler)
//   step       lr(t) = base * gamma^floor(t / step_size)                   (lr_scheduler.StepLR)
//   cosine     t < W:      base * (f + (1 - f) * t / W)                   (lr_scheduler.LinearLR(start_factor=f,
//                                                                           total_iters=W))
//              W <= t:     min + (base - min) * (1 + cos(pi * min(t - W, T) / T)) / 2,  T = total - W
//                                                                          (then CosineAnnealingLR(T_max=T,
//                                                                           eta_min=min); held at min after
//                                                                           `total` steps instead of rising again)
//   With warmup_steps = 0 the cosine schedule starts at base.
#include <cstdint>
#include <string>

namespace raven::nn {

enum class LrScheduleKind { Constant, Step, Cosine };

struct LrSchedule {
    LrScheduleKind kind = LrScheduleKind::Constant;
    double base = 1e-3;
    // step
    std::int64_t stepSize = 1;
    double gamma = 0.1;
    // cosine
    std::int64_t warmupSteps = 0;
    double warmupStartFactor = 1.0 / 3.0;  // LinearLR's default
    std::int64_t totalSteps = 1;           // warm-up included
    double minLr = 0.0;

    // The rate for step t (t >= 0).
    double at(std::int64_t t) const;
    // Throws a raven::Error for a non-positive step size, total steps not above the warm-up, ...
    void validate() const;
    // {"kind": "cosine", "warmup_steps": 100, "total_steps": 5000, "min_lr": 0} and back; `base` is
    // not part of it (it is the optimizer's lr).
    std::string toJson() const;
    static LrSchedule fromJson(const std::string& json, double base);
};

}  // namespace raven::nn
