#pragma once
// Internal to raven_nn: the factories behind makeOptimizer (one file per optimizer family).
#include <memory>
#include <string>
#include <vector>

#include "nn/Optimizer.h"

namespace raven::nn {

std::unique_ptr<Optimizer> makeSgd(const OptimizerConfig& config, std::vector<std::string> names);
std::unique_ptr<Optimizer> makeAdam(const OptimizerConfig& config, std::vector<std::string> names);  // and AdamW

}  // namespace raven::nn
