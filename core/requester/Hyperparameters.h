#pragma once
// A job's hyperparameters as the wire carries them (wire::Hyperparameters), from the same
// nn::OptimizerConfig that `raven train --local` uses, so that a distributed job and a local run
// with the same options mean the same thing.
//
//   nn::OptimizerConfig adam = nn::OptimizerConfig::defaults(nn::OptimizerKind::Adam);
//   wire::Hyperparameters h;
//   setOptimizer(h, adam);            // "adam", lr 0.001, betas 0.9/0.999, eps 1e-8, weight decay 0
//   h.set_global_batch(128);
//   h.set_gradient_encoding(gradientEncodingFromName("bf16"));
#include <QString>

#include <optional>

#include "nn/Optimizer.h"
#include "protocol/raven.pb.h"

namespace raven::requester {

// Writes every optimizer field explicitly (the coordinator never guesses a default): "sgd", or
// "momentum" for SGD with momentum > 0, "adam", "adamw"; the rate, momentum, betas, epsilon and
// weight decay. raven::Error (from OptimizerConfig::validate) for settings PyTorch would refuse.
void setOptimizer(wire::Hyperparameters& hyperparameters, const nn::OptimizerConfig& config);

// The outer step of a local-steps plan, written explicitly as the optimizer is: the rate and momentum
// given (momentum 0: none), or else those measured for the plan's staleness (set it first): DiLoCo's
// 0.7 and 0.9 with d = 0; 0.35 and 0.5 with d = 1, where DiLoCo's overshoot on the delayed
// pseudo-gradients (the CNN diverged, the MLP lost 40 points; docs/benchmarks.md, "Issue 19 item 5").
inline constexpr double kOuterLearningRate = 0.7;
inline constexpr double kOuterMomentum = 0.9;
inline constexpr double kStaleOuterLearningRate = 0.35;
inline constexpr double kStaleOuterMomentum = 0.5;
void setOuterStep(wire::LocalStepsPlan& plan, std::optional<double> rate, std::optional<double> momentum);

// A learning-rate schedule as people write it (`raven submit --lr-schedule`, raven.proto has the
// formulas):
//   constant
//   step:every=200,gamma=0.5
//   cosine                          to 0 over the job's steps
//   cosine:min=1e-5,warmup=100,start=0.01,cycle=5000
// raven::Error naming the part it does not understand, with the forms above as the hint.
wire::LearningRateSchedule lrScheduleFromText(const QString& text);
// The same form back ("cosine:min=1e-05,warmup=100"), what lrScheduleFromText reads.
QString lrScheduleText(const wire::LearningRateSchedule& schedule);
// One line for people: "cosine to 1e-05 after 100 warm-up steps", "step decay ×0.5 every 200 steps".
QString describeLrSchedule(const wire::LearningRateSchedule& schedule);

// "fp32", "fp16", "bf16", "int8" (blocks, protocol/GradientCodec.h; case-insensitive); raven::Error
// naming the choices for anything else.
wire::GradientEncoding gradientEncodingFromName(const QString& name);
// "fp32" (also for UNSPECIFIED, which means fp32), "fp16", "bf16", "int8".
QString gradientEncodingName(wire::GradientEncoding encoding);

}  // namespace raven::requester
