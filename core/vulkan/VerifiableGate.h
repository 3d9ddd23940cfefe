#pragma once
// The device gate of the verifiable kernel mode (docs/verification.md): whether a Vulkan device
// computes float32 exactly as the verifiable kernels require, checked on the device itself with
// compute-shaders/verifiable_math_probe.comp before it may take verifiable work units:
//  - rounding: a single + and x round to nearest, ties to even;
//  - signed zeros, infinities and NaN come out as IEEE 754 says (-0 + -0 = -0, inf - inf = NaN, ...);
//  - subnormal numbers are kept, as arguments and as results (no flush to zero);
//  - no contraction: a `precise` a * b + b is rounded twice (the CPU's probe, on the device);
//  - golden results: every function of include/verifiable_math.glsl over a fixed grid of arguments
//    gives the bits of core/cpu/kernels/VerifiableMath.h, computed on the host from the same source
//    (the first differing argument is named).
// A device that fails any check is refused verifiable units; the reason is a sentence per failure.
//
//   const VerifiableGate gate = checkVerifiableGate(device);
//   std::printf("%s\n", gate.summary().c_str());   // "verifiable units: yes" or "no: ..."
#include <string>
#include <vector>

namespace raven::vulkan {

class Device;

struct VerifiableGate {
    bool admitted = false;
    std::vector<std::string> failures;  // what the device got wrong, one sentence each
    std::string summary() const;
};

// Runs the checks above on `device` (a few dispatches, well under a second on lavapipe).
VerifiableGate checkVerifiableGate(Device& device);

}  // namespace raven::vulkan
