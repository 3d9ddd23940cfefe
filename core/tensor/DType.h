#pragma once
// Element types. Raven computes in float32 everywhere; float16 and bfloat16 exist only as storage
// formats for the wire and for checkpoints (a gradient sent as fp16 is half the bytes). So a Tensor
// always holds F32 values on its backend, and these functions convert at the boundary.
//
// The one set of 16-bit conversions in Raven (the wire's gradients, safetensors checkpoints):
//   F16 (IEEE binary16): 1 sign bit, 5 exponent bits, 10 mantissa bits; largest finite 65504,
//       smallest normal 2^-14, subnormals down to 2^-24.
//   BF16 (bfloat16): the upper half of a binary32 (1 sign, 8 exponent, 7 mantissa bits): the same
//       range as float32 with about 3 significant decimal digits.
// Widening (16 -> 32 bits) is exact for every value, subnormals, infinities and NaN payloads
// included. Narrowing (32 -> 16 bits) rounds to nearest, ties to even, as PyTorch's .half() and
// .bfloat16() do: values beyond the largest finite value round to infinity, values too small
// become subnormals or (signed) zero, and a NaN stays a quiet NaN with its sign (its payload is
// truncated, never turned into infinity).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace raven {

enum class DType { F32, F16, BF16 };

// Bytes per element: 4, 2, 2.
size_t dtypeSize(DType dtype);
// "F32", "F16", "BF16" (the safetensors spelling).
std::string dtypeName(DType dtype);
// Parses the names above; throws raven::Error for anything else.
DType dtypeFromName(const std::string& name);

uint16_t floatToHalf(float value);
float halfToFloat(uint16_t bits);
uint16_t floatToBFloat16(float value);
float bfloat16ToFloat(uint16_t bits);

// Little-endian bytes of `values` in `dtype` (values.size() * dtypeSize(dtype) bytes).
std::vector<std::byte> encodeValues(const std::vector<float>& values, DType dtype);
// The inverse; throws raven::Error when the byte count is not a multiple of the element size.
std::vector<float> decodeValues(const std::byte* bytes, size_t byteCount, DType dtype);
// The same into `out`, which must hold byteCount / dtypeSize(dtype) values (raven::Error if not);
// every one of them is overwritten.
void decodeValuesInto(const std::byte* bytes, size_t byteCount, DType dtype, std::span<float> out);

}  // namespace raven
