#include "checkpoint/SafeTensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "base/Checked.h"
#include "base/Error.h"
#include "tensor/DType.h"
#include "checkpoint/SafeTensorsInternal.h"

// The data section is little-endian; Raven copies it to and from memory without swapping bytes.
static_assert(std::endian::native == std::endian::little, "raven_checkpoint assumes a little-endian machine");

namespace raven {

// The file format's element type; tensor/DType.h, included for the 16-bit conversions, has a DType of its own.
using FileDType = safetensors::DType;

namespace safetensors::detail {

std::optional<std::uint64_t> byteCount(std::span<const std::int64_t> shape, DType dtype) {
    std::uint64_t count = dtypeSize(dtype);
    for (const std::int64_t dim : shape) {
        if (dim < 0) return std::nullopt;
        const auto udim = static_cast<std::uint64_t>(dim);
        if (udim != 0 && count > std::numeric_limits<std::uint64_t>::max() / udim) return std::nullopt;
        count *= udim;
    }
    return count;
}

std::string shapeText(std::span<const std::int64_t> shape) {
    std::string text = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

}  // namespace safetensors::detail

namespace {

template <typename T>
void widen(const std::vector<std::byte>& data, std::vector<float>& out) {
    for (std::size_t i = 0; i < out.size(); ++i) {
        T element;
        std::memcpy(&element, data.data() + i * sizeof(T), sizeof(T));
        out[i] = static_cast<float>(element);
    }
}

void widen16(const std::vector<std::byte>& data, std::vector<float>& out, float (*convert)(std::uint16_t)) {
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint16_t bits;
        std::memcpy(&bits, data.data() + i * 2, 2);
        out[i] = convert(bits);
    }
}

template <typename T>
void narrow(std::span<const float> values, std::vector<std::byte>& out, T (*convert)(float)) {
    out.resize(values.size() * sizeof(T));
    for (std::size_t i = 0; i < values.size(); ++i) {
        const T element = convert(values[i]);
        std::memcpy(out.data() + i * sizeof(T), &element, sizeof(T));
    }
}

}  // namespace

std::int64_t NamedArray::elementCount() const {
    const auto count = checkedProduct(shape);
    RAVEN_CHECK(count.has_value(),
                "tensor '" + name + "' has shape " + safetensors::detail::shapeText(shape) +
                    ", whose element count does not fit in 64 bits",
                "the file is corrupt or crafted: re-download it or write it again");
    return *count;
}

std::vector<float> NamedArray::toFloat32() const {
    const auto expected = safetensors::detail::byteCount(shape, dtype);
    RAVEN_CHECK(expected && *expected == data.size(),
                "tensor '" + name + "' holds " + std::to_string(data.size()) + " bytes, which does not fit dtype " +
                    std::string(safetensors::dtypeName(dtype)) + " and shape " + safetensors::detail::shapeText(shape),
                "the data must be product(shape) * element size bytes");
    std::vector<float> out(static_cast<std::size_t>(elementCount()));
    switch (dtype) {
        case FileDType::F64:
            widen<double>(data, out);
            break;
        case FileDType::F32:
            widen<float>(data, out);
            break;
        case FileDType::F16:
            widen16(data, out, raven::halfToFloat);
            break;
        case FileDType::BF16:
            widen16(data, out, raven::bfloat16ToFloat);
            break;
        case FileDType::I64:
            widen<std::int64_t>(data, out);
            break;
        case FileDType::I32:
            widen<std::int32_t>(data, out);
            break;
        case FileDType::I16:
            widen<std::int16_t>(data, out);
            break;
        case FileDType::I8:
            widen<std::int8_t>(data, out);
            break;
        case FileDType::U8:
            widen<std::uint8_t>(data, out);
            break;
        case FileDType::BOOL:
            widen<std::uint8_t>(data, out);
            break;  // 0 or 1 by the format
    }
    return out;
}

NamedArray NamedArray::fromFloat32(std::string name, std::vector<std::int64_t> shape, std::span<const float> values,
                                   FileDType dtype) {
    NamedArray array{std::move(name), dtype, std::move(shape), {}};
    const auto bytes = safetensors::detail::byteCount(array.shape, FileDType::F32);
    RAVEN_CHECK(bytes && *bytes / 4 == values.size(),
                "tensor '" + array.name + "' has shape " + safetensors::detail::shapeText(array.shape) + " but " +
                    std::to_string(values.size()) + " values were given",
                "pass exactly product(shape) values, row-major");
    switch (dtype) {
        case FileDType::F32:
            narrow<float>(values, array.data, [](float v) { return v; });
            break;
        case FileDType::F64:
            narrow<double>(values, array.data, [](float v) { return static_cast<double>(v); });
            break;
        case FileDType::F16:
            narrow<std::uint16_t>(values, array.data, raven::floatToHalf);
            break;
        case FileDType::BF16:
            narrow<std::uint16_t>(values, array.data, raven::floatToBFloat16);
            break;
        default:
            fail("tensor '" + array.name + "': float32 values cannot be stored as " +
                     std::string(safetensors::dtypeName(dtype)),
                 "store float values as F32, F16, BF16 or F64");
    }
    return array;
}

const NamedArray* SafeTensors::find(std::string_view name) const {
    const auto it = std::lower_bound(arrays_.begin(), arrays_.end(), name,
                                     [](const NamedArray& a, std::string_view n) { return a.name < n; });
    return it != arrays_.end() && it->name == name ? &*it : nullptr;
}

const NamedArray& SafeTensors::at(std::string_view name) const {
    if (const NamedArray* array = find(name)) return *array;
    std::string known;
    for (std::size_t i = 0; i < arrays_.size() && i < 8; ++i) known += (i ? ", " : "") + arrays_[i].name;
    if (arrays_.size() > 8) known += ", ... (" + std::to_string(arrays_.size()) + " in all)";
    fail("no tensor named '" + std::string(name) + "'" +
             (arrays_.empty() ? " (there are none)" : "; there are " + known),
         "check the name against the model's parameter names (PyTorch's, e.g. 'fc1.weight')");
}

void SafeTensors::put(NamedArray array) {
    RAVEN_CHECK(!array.name.empty(), "a tensor needs a name", "give every tensor a non-empty name");
    RAVEN_CHECK(array.name != "__metadata__", "'__metadata__' cannot name a tensor: the format reserves it",
                "rename the tensor");
    const auto bytes = safetensors::detail::byteCount(array.shape, array.dtype);
    RAVEN_CHECK(bytes.has_value(),
                "tensor '" + array.name + "' has an invalid shape " + safetensors::detail::shapeText(array.shape),
                "dimensions must be non-negative and their product must fit in 64 bits");
    RAVEN_CHECK(*bytes == array.data.size(),
                "tensor '" + array.name + "' (" + std::string(safetensors::dtypeName(array.dtype)) + ", shape " +
                    safetensors::detail::shapeText(array.shape) + ") needs " + std::to_string(*bytes) +
                    " bytes but holds " + std::to_string(array.data.size()),
                "the data must be product(shape) * element size bytes");
    const auto it = std::lower_bound(arrays_.begin(), arrays_.end(), array.name,
                                     [](const NamedArray& a, const std::string& n) { return a.name < n; });
    if (it != arrays_.end() && it->name == array.name)
        *it = std::move(array);
    else
        arrays_.insert(it, std::move(array));
}

void SafeTensors::putFloat32(std::string name, std::vector<std::int64_t> shape, std::span<const float> values,
                             FileDType dtype) {
    put(NamedArray::fromFloat32(std::move(name), std::move(shape), values, dtype));
}

std::vector<float> SafeTensors::toFloat32(std::string_view name) const { return at(name).toFloat32(); }

bool SafeTensors::remove(std::string_view name) {
    const auto it = std::find_if(arrays_.begin(), arrays_.end(), [&](const NamedArray& a) { return a.name == name; });
    if (it == arrays_.end()) return false;
    arrays_.erase(it);
    return true;
}

}  // namespace raven
