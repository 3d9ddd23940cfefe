#pragma once
// Seeded initialisation of parameters and buffers, following PyTorch's defaults so that a Raven model
// starts from the same distributions as the equivalent torch module:
//
//   role          kaiming_uniform (default)        kaiming_normal          xavier_uniform
//   Weight        U(+-1/sqrt(fan_in))  [1]         N(0, 2/fan_in)          U(+-sqrt(6/(fan_in+fan_out)))
//   Bias          U(+-1/sqrt(fan_in))              0                       0
//   XavierWeight  U(+-sqrt(6/(fan_in+fan_out)))    (always: PyTorch's MultiheadAttention in_proj_weight)
//   Embedding     N(0, 1)                          (always: nn.Embedding)
//   Ones / Zeros  1 / 0                            (norm scales and shifts, BatchNorm buffers)
//
//   [1] kaiming_uniform_(a=sqrt(5)) as nn.Linear and nn.Conv2d do: gain sqrt(2/(1+5)) times
//       sqrt(3/fan_in) = 1/sqrt(fan_in).
//
// One Generator, seeded with the spec's init seed, draws the parameters in Architecture order, so a
// seed gives the same weights on every machine and backend. The values match PyTorch's in
// distribution, not bit for bit (PyTorch's generator differs).
#include "nn/Layer.h"
#include "tensor/Random.h"
#include "tensor/Tensor.h"

namespace raven::nn {

// The initial value of `decl`, drawn from `gen` when random. `modelScheme` applies unless the layer
// overrides it.
Tensor initialValue(const ParameterDecl& decl, InitScheme modelScheme, Generator& gen, Backend& backend);

}  // namespace raven::nn
