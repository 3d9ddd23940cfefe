#pragma once
// KernelMode (tensor/KernelMode.h) as it travels: in Hyperparameters (the job's choice), in each
// WorkUnit (what the worker must compute with) and in each SubmitResult (what it computed with).
#include <optional>

#include "protocol/raven.pb.h"
#include "tensor/KernelMode.h"

namespace raven::protocol {

constexpr wire::KernelMode wireKernelMode(KernelMode mode) {
    return mode == KernelMode::Verifiable ? wire::KERNEL_MODE_VERIFIABLE : wire::KERNEL_MODE_FAST;
}

// nullopt for a value this build does not know (a newer peer's mode): the caller refuses it.
constexpr std::optional<KernelMode> kernelModeOf(wire::KernelMode mode) {
    switch (mode) {
        case wire::KERNEL_MODE_FAST:
            return KernelMode::Fast;
        case wire::KERNEL_MODE_VERIFIABLE:
            return KernelMode::Verifiable;
        default:
            return std::nullopt;
    }
}

}  // namespace raven::protocol
