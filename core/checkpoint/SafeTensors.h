#pragma once
// safetensors files: named tensors the way PyTorch and Hugging Face users exchange them.
//
// The format (https://github.com/huggingface/safetensors), byte for byte:
//
//   [8 bytes]  N, the header length, a little-endian unsigned 64-bit integer
//   [N bytes]  the header: a UTF-8 JSON object
//                {"__metadata__": {"key": "value", ...},            (optional, strings only)
//                 "fc1.weight": {"dtype": "F32", "shape": [256, 784], "data_offsets": [begin, end]},
//                 ...}
//   [rest]     the data section: each tensor's elements, row-major, little-endian, at
//              [begin, end) counted from the start of the data section
//
// Reading is as strict as the reference implementation: the header length is bounded (100 MB) and
// lies within the file; the header is a JSON object with no repeated key; every dtype is known; every
// shape is non-negative; each tensor's byte count is product(shape) * element size; the tensors tile
// the data section exactly (no overlap, no gap, nothing after the last one). A file that breaks any
// rule is a raven::Error naming the file, the tensor and the rule. A file is read whole into memory.
//
// Writing pads the header with spaces to a multiple of 8 bytes (as the reference does) and lays the
// tensors out by element size, largest first, then by name, so that every tensor starts at an offset
// aligned to its element size and can be used in place from a memory map. Any order is valid to a
// reader; this one is deterministic, so equal contents give equal bytes (and equal hashes). Files
// are replaced atomically: a reader never sees half a file, and a failed write leaves the old one.
//
// Usage:
//   raven::SafeTensors weights;
//   weights.putFloat32("fc1.weight", {256, 784}, values);                 // stored as F32
//   weights.putFloat32("fc1.bias", {256}, bias, safetensors::DType::BF16); // rounded to bfloat16
//   weights.metadata["format"] = "pt";
//   weights.write("model.safetensors");
//   auto loaded = raven::SafeTensors::read("model.safetensors");
//   std::vector<float> w = loaded.toFloat32("fc1.weight");               // any float dtype widened
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "checkpoint/DType.h"

namespace raven {

// One tensor of a safetensors file: its name, element type, shape and raw little-endian bytes.
struct NamedArray {
    std::string name;
    safetensors::DType dtype = safetensors::DType::F32;
    std::vector<std::int64_t> shape;  // row-major; empty for a scalar
    std::vector<std::byte> data;      // elementCount() * dtypeSize(dtype) bytes

    // Product of the shape (1 for a scalar, 0 if any dimension is 0); a raven::Error when it does not fit
    // in 64 bits.
    std::int64_t elementCount() const;
    // The elements as float32: F32 as is, F16 and BF16 exactly, F64 rounded to nearest, integers and
    // BOOL by value (exact up to 2^24). Data whose size does not fit the
    // shape and dtype is a raven::Error.
    std::vector<float> toFloat32() const;
    // Float32 values stored as `dtype` (F32, F16, BF16 or F64), rounding to nearest, ties to even.
    // A value count that does not match the shape is a raven::Error.
    static NamedArray fromFloat32(std::string name, std::vector<std::int64_t> shape, std::span<const float> values,
                                  safetensors::DType dtype = safetensors::DType::F32);
};

// A collection of named tensors plus the file's string metadata. Tensors are kept sorted by name.
class SafeTensors {
public:
    using Metadata = std::map<std::string, std::string>;

    // The header's "__metadata__": free-form strings (Raven checkpoints keep their spec and step here).
    Metadata metadata;

    // Reads and validates a file; any problem is a raven::Error naming the file.
    static SafeTensors read(const std::string& path);
    // Parses the bytes of a file already in memory; `source` names it in error messages.
    static SafeTensors fromBytes(std::span<const std::byte> bytes, const std::string& source);

    // Writes the file atomically (a temporary file renamed over `path`); an unwritable place is a
    // raven::Error.
    void write(const std::string& path) const;
    // The bytes write() would put in the file.
    std::vector<std::byte> toBytes() const;

    // All tensors, sorted by name.
    const std::vector<NamedArray>& arrays() const { return arrays_; }
    std::size_t size() const { return arrays_.size(); }
    bool contains(std::string_view name) const { return find(name) != nullptr; }
    // nullptr if there is no tensor with this name.
    const NamedArray* find(std::string_view name) const;
    // A missing name is a raven::Error listing a few names the collection does have.
    const NamedArray& at(std::string_view name) const;

    // Adds a tensor, replacing one of the same name. A byte count that does not match the shape and
    // dtype, a negative dimension, an empty name or the reserved name "__metadata__" is a raven::Error.
    void put(NamedArray array);
    // Stores float32 values under `name` as F32, F16, BF16 or F64 (see NamedArray::fromFloat32).
    void putFloat32(std::string name, std::vector<std::int64_t> shape, std::span<const float> values,
                    safetensors::DType dtype = safetensors::DType::F32);
    // The tensor `name` as float32 (see NamedArray::toFloat32); a missing name is a raven::Error.
    std::vector<float> toFloat32(std::string_view name) const;
    // Removes `name`; returns whether it was there.
    bool remove(std::string_view name);

private:
    std::vector<NamedArray> arrays_;
};

namespace safetensors {
// The reference implementation's bound on the header length.
inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
}  // namespace safetensors

}  // namespace raven
