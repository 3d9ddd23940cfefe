#pragma once
// The element types a safetensors file can hold, as Raven knows them.
//
// A safetensors header names each tensor's element type with a short string ("F32", "BF16", "I64"...);
// the data is raw little-endian elements of that type. Raven computes in float32 and stores weights
// on the wire and on disk as F32, F16 or BF16; the integer types appear in PyTorch state_dicts
// (BatchNorm's num_batches_tracked is I64, masks are BOOL or U8) and are read and written unchanged.
// The format also defines 8-bit floats and unsigned 16/32/64-bit integers; a file using them is
// rejected with an error that names the type, since nothing in Raven could use such a tensor.
#include <cstdint>
#include <optional>
#include <string_view>

namespace raven::safetensors {

enum class DType : std::uint8_t {
    F64,   // IEEE binary64
    F32,   // IEEE binary32
    F16,   // IEEE binary16 (half)
    BF16,  // bfloat16: the upper 16 bits of a binary32
    I64,
    I32,
    I16,
    I8,
    U8,
    BOOL,  // one byte per element, 0 or 1
};

// The header spelling: "F32", "BF16", ...
std::string_view dtypeName(DType dtype);
// The header spelling back to a DType; nullopt for a spelling Raven does not support.
std::optional<DType> dtypeFromName(std::string_view name);
// Bytes per element.
std::size_t dtypeSize(DType dtype);
// True for F64, F32, F16 and BF16.
bool isFloatingPoint(DType dtype);
// "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL": for error messages.
std::string_view supportedDTypeNames();

}  // namespace raven::safetensors
