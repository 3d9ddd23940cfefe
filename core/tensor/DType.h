#pragma once
// Element types. Raven computes in float32 everywhere; float16 and bfloat16 exist only as storage
// formats for the wire and for checkpoints (a gradient sent as fp16 is half the bytes). So a Tensor
// always holds F32 values on its backend, and these functions convert at the boundary.
//
// Conversions from float round to nearest, ties to even (IEEE 754 default, as numpy and PyTorch do);
// values beyond the target's range become infinity, NaN stays NaN (quiet), subnormals are kept.
// Conversions to float are exact.
#include <cstddef>
#include <cstdint>
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

}  // namespace raven
