#pragma once
// KernelMode: how a backend's kernels may compute, chosen per job and recorded in each work unit.
//  - Fast: the backend's quickest kernels. Deterministic on one device (Backend.h), but two devices,
//    or two builds with different vector code paths, may differ in the last bits.
//  - Verifiable: every result depends on the logical shapes alone and is bit-identical on every
//    device that passes the device gate (docs/verification.md), so any verifier can recompute a
//    work unit and compare the result by hash.
#include <cstdint>
#include <optional>
#include <string_view>

namespace raven {

enum class KernelMode : std::uint8_t {
    Fast = 0,
    Verifiable = 1,
};

// "fast" / "verifiable": the names used in job configs, on the command line and in logs.
constexpr std::string_view kernelModeName(KernelMode mode) {
    return mode == KernelMode::Verifiable ? "verifiable" : "fast";
}

// The mode named `name` (case-sensitive, as kernelModeName writes it); nullopt for anything else.
constexpr std::optional<KernelMode> kernelModeFromName(std::string_view name) {
    if (name == "fast") return KernelMode::Fast;
    if (name == "verifiable") return KernelMode::Verifiable;
    return std::nullopt;
}

}  // namespace raven
