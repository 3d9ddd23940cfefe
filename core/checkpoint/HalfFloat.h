#pragma once
// Conversions between float32 and the two 16-bit float formats a safetensors file may hold.
//
//   F16 (IEEE binary16): 1 sign bit, 5 exponent bits, 10 mantissa bits; largest finite 65504,
//       smallest normal 2^-14, subnormals down to 2^-24.
//   BF16 (bfloat16): the upper half of a binary32 (1 sign, 8 exponent, 7 mantissa bits): the same
//       range as float32 with about 3 significant decimal digits.
//
// Widening (16 -> 32 bits) is exact for every value, subnormals, infinities and NaN payloads
// included. Narrowing (32 -> 16 bits) rounds to nearest, ties to even, as PyTorch's .half() and
// .bfloat16() do: values beyond the largest finite value round to infinity, values too small
// become subnormals or (signed) zero, and a NaN stays a quiet NaN with its sign (its payload is
// truncated, never turned into infinity).
#include <cstdint>

namespace raven::safetensors {

std::uint16_t floatToHalfBits(float value);
float halfBitsToFloat(std::uint16_t bits);

std::uint16_t floatToBFloat16Bits(float value);
float bfloat16BitsToFloat(std::uint16_t bits);

}  // namespace raven::safetensors
