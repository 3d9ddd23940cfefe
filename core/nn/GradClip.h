#pragma once
// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (PyTorch 1.13, norm type 2):
//   total = sqrt(sum over every gradient of sum(g^2))
//   g *= min(1, max_norm / (total + 1e-6))
// Computed entirely with backend kernels: the scale stays a one-element tensor on the device, so
// clipping never forces a sync; read the returned norm with item() only when it is wanted.
#include <vector>

#include "tensor/Tensor.h"

namespace raven::nn {

// Replaces each defined gradient in `grads` by its clipped value (new tensors); returns the total norm
// before clipping as a one-element tensor. maxNorm must be positive (raven::Error otherwise). With no
// defined gradient, returns an undefined tensor and changes nothing.
Tensor clipGradNorm(std::vector<Tensor>& grads, double maxNorm);

}  // namespace raven::nn
