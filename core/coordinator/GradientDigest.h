#pragma once
// GradientDigest: the name two computations of one verifiable work unit are compared by.
//
//   QString d = gradientDigest(result.gradient);   // 64 lowercase hex digits
//
// The SHA-256 of the decoded gradient as little-endian float32, every NaN written as the one
// canonical quiet NaN 0x7fc00000 first (a NaN's payload and sign depend on the hardware that made
// it, not on the arithmetic). Everything else is compared bit for bit: -0 differs from +0, and a
// last-bit difference anywhere changes the digest. Only results computed with verifiable kernels
// can be expected to match (tensor/KernelMode.h).
#include <QString>

#include <span>

namespace raven::coordinator {

QString gradientDigest(std::span<const float> gradient);

}  // namespace raven::coordinator
