#pragma once
// Shared by the reader, the writer and the collection; not part of the public API.
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "checkpoint/DType.h"

namespace raven::safetensors::detail {

// product(shape) * dtypeSize(dtype), or nullopt if a dimension is negative or the product overflows
// 64 bits (a hostile header must not wrap around to a small, plausible count).
std::optional<std::uint64_t> byteCount(std::span<const std::int64_t> shape, DType dtype);

// "[2, 3, 4]"
std::string shapeText(std::span<const std::int64_t> shape);

}  // namespace raven::safetensors::detail
