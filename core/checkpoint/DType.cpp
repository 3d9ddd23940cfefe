#include "checkpoint/DType.h"

#include <array>

#include "base/Error.h"

namespace raven::safetensors {
namespace {

struct DTypeInfo {
    DType dtype;
    std::string_view name;
    std::size_t size;
};

constexpr std::array<DTypeInfo, 10> kDTypes{{
    {DType::F64, "F64", 8},
    {DType::F32, "F32", 4},
    {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8},
    {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},
    {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1},
}};

const DTypeInfo& info(DType dtype) {
    for (const auto& entry : kDTypes)
        if (entry.dtype == dtype) return entry;
    RAVEN_ASSERT(false, "DType value " + std::to_string(static_cast<int>(dtype)) + " is not in the table");
    return kDTypes[0];
}

}  // namespace

std::string_view dtypeName(DType dtype) { return info(dtype).name; }

std::size_t dtypeSize(DType dtype) { return info(dtype).size; }

std::optional<DType> dtypeFromName(std::string_view name) {
    for (const auto& entry : kDTypes)
        if (entry.name == name) return entry.dtype;
    return std::nullopt;
}

bool isFloatingPoint(DType dtype) {
    return dtype == DType::F64 || dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16;
}

std::string_view supportedDTypeNames() { return "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL"; }

}  // namespace raven::safetensors
