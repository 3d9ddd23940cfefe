#include "tensor/DType.h"

#include <bit>
#include <cstring>

#include "base/Error.h"

namespace raven {

size_t dtypeSize(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

std::string dtypeName(DType dtype) {
    switch (dtype) {
        case DType::F32:
            return "F32";
        case DType::F16:
            return "F16";
        case DType::BF16:
            return "BF16";
    }
    return "?";
}

DType dtypeFromName(const std::string& name) {
    if (name == "F32") return DType::F32;
    if (name == "F16") return DType::F16;
    if (name == "BF16") return DType::BF16;
    fail("unknown element type \"" + name + "\"", "use F32, F16 or BF16");
}

namespace {

constexpr std::uint32_t kFloatExponentMask = 0x7f800000u;
constexpr std::uint32_t kFloatAbsMask = 0x7fffffffu;

// Shifts `value` right by `shift` (1..31) bits, rounding to nearest with ties to even.
std::uint32_t shiftRightRoundingToEven(std::uint32_t value, unsigned shift) {
    const std::uint32_t quotient = value >> shift;
    const std::uint32_t remainder = value & ((1u << shift) - 1u);
    const std::uint32_t halfway = 1u << (shift - 1u);
    if (remainder > halfway || (remainder == halfway && (quotient & 1u))) return quotient + 1u;
    return quotient;
}

}  // namespace

uint16_t floatToHalf(float value) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
    const std::uint32_t magnitude = bits & kFloatAbsMask;

    if (magnitude > kFloatExponentMask)  // NaN: keep the top payload bits, force the quiet bit
        return static_cast<std::uint16_t>(sign | 0x7e00u | ((magnitude >> 13) & 0x3ffu));
    // 65520 = 65504 (largest half) + half an ulp: from there on (ties to even included) it is infinity.
    if (magnitude >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);
    if (magnitude >= 0x38800000u) {  // a normal half (>= 2^-14): re-bias the exponent by 127-15
        const std::uint32_t rebiased = magnitude - 0x38000000u;
        return static_cast<std::uint16_t>(sign | shiftRightRoundingToEven(rebiased, 13));
    }
    // Below 2^-14: a subnormal half counts units of 2^-24. Anything at or below 2^-25 (half a unit,
    // a tie that goes to the even zero) becomes zero.
    if (magnitude <= 0x33000000u) return sign;
    const std::uint32_t exponent = magnitude >> 23;                      // 102..112 here
    const std::uint32_t mantissa = (magnitude & 0x7fffffu) | 0x800000u;  // with the implicit 1
    // value = mantissa * 2^(exponent-150) = mantissa * 2^(exponent-126) units of 2^-24.
    // Rounding up to 0x400 correctly yields the smallest normal half.
    return static_cast<std::uint16_t>(sign | shiftRightRoundingToEven(mantissa, 126u - exponent));
}

float halfToFloat(uint16_t bits) {
    const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
    const std::uint32_t exponent = (bits >> 10) & 0x1fu;
    std::uint32_t mantissa = bits & 0x3ffu;
    if (exponent == 0x1fu)  // infinity or NaN (payload kept)
        return std::bit_cast<float>(sign | kFloatExponentMask | (mantissa << 13));
    if (exponent == 0) {
        if (mantissa == 0) return std::bit_cast<float>(sign);
        // Subnormal half: normalize it, every one is a normal float.
        std::uint32_t floatExponent = 127 - 14;
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            --floatExponent;
        }
        return std::bit_cast<float>(sign | (floatExponent << 23) | ((mantissa & 0x3ffu) << 13));
    }
    return std::bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

uint16_t floatToBFloat16(float value) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    if ((bits & kFloatAbsMask) > kFloatExponentMask)  // NaN: truncating could leave an infinity
        return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
    // Rounding up out of the largest finite value carries into the exponent and yields infinity,
    // which is the correctly rounded result.
    const std::uint32_t rounded = bits + 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<std::uint16_t>(rounded >> 16);
}

float bfloat16ToFloat(uint16_t bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }

std::vector<std::byte> encodeValues(const std::vector<float>& values, DType dtype) {
    std::vector<std::byte> out(values.size() * dtypeSize(dtype));
    if (dtype == DType::F32) {
        // x86/ARM hosts are little-endian. memcpy needs valid pointers even for 0 bytes (an empty
        // vector's data() may be null).
        if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
        return out;
    }
    for (size_t i = 0; i < values.size(); ++i) {
        const uint16_t h = dtype == DType::F16 ? floatToHalf(values[i]) : floatToBFloat16(values[i]);
        out[2 * i] = static_cast<std::byte>(h & 0xFFu);
        out[2 * i + 1] = static_cast<std::byte>(h >> 8);
    }
    return out;
}

std::vector<float> decodeValues(const std::byte* bytes, size_t byteCount, DType dtype) {
    const size_t size = dtypeSize(dtype);
    RAVEN_CHECK(byteCount % size == 0,
                "decodeValues: " + std::to_string(byteCount) + " bytes is not a whole number of " + dtypeName(dtype) +
                    " values",
                "the data is truncated or its element type is wrong");
    std::vector<float> out(byteCount / size);
    decodeValuesInto(bytes, byteCount, dtype, out);
    return out;
}

void decodeValuesInto(const std::byte* bytes, size_t byteCount, DType dtype, std::span<float> out) {
    RAVEN_CHECK(byteCount == out.size() * dtypeSize(dtype),
                "decodeValues: " + std::to_string(byteCount) + " bytes are not " + std::to_string(out.size()) + " " +
                    dtypeName(dtype) + " values",
                "the data is truncated or its element type is wrong");
    if (dtype == DType::F32) {
        if (!out.empty()) std::memcpy(out.data(), bytes, byteCount);  // no memcpy from null, even of 0 bytes
        return;
    }
    for (size_t i = 0; i < out.size(); ++i) {
        const uint16_t h =
            static_cast<uint16_t>(static_cast<uint16_t>(bytes[2 * i]) | (static_cast<uint16_t>(bytes[2 * i + 1]) << 8));
        out[i] = dtype == DType::F16 ? halfToFloat(h) : bfloat16ToFloat(h);
    }
}

}  // namespace raven
