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

uint16_t floatToHalf(float value) {
    const uint32_t f = std::bit_cast<uint32_t>(value);
    const uint32_t sign = (f >> 16) & 0x8000u;
    const uint32_t absf = f & 0x7FFFFFFFu;
    if (absf >= 0x7F800000u) {  // inf or NaN
        const bool nan = absf > 0x7F800000u;
        return static_cast<uint16_t>(sign | 0x7C00u | (nan ? (0x200u | ((absf >> 13) & 0x3FFu)) : 0u));
    }
    // 65520 = largest float that rounds to the largest half (65504) is just below it; from there on: inf.
    if (absf >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);
    if (absf < 0x38800000u) {
        // Result is a half subnormal (or zero): value = m * 2^-24 with m in [0, 1024).
        // Shift the full 24-bit significand so that the units are 2^-24, rounding to nearest even.
        if (absf < 0x33000000u) return static_cast<uint16_t>(sign);  // below 2^-25: rounds to 0
        const uint32_t exponent = absf >> 23;                        // biased, >= 102
        const uint32_t mantissa = (absf & 0x7FFFFFu) | 0x800000u;
        const uint32_t shift = 126u - exponent;  // 14 .. 24
        const uint32_t result = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1u);
        const uint32_t halfway = 1u << (shift - 1u);
        const uint32_t rounded = result + ((rest > halfway || (rest == halfway && (result & 1u))) ? 1u : 0u);
        return static_cast<uint16_t>(sign | rounded);
    }
    // Normal: rebias exponent (127 -> 15), keep 10 mantissa bits, round to nearest even; a carry
    // into the exponent is the correct result (up to inf, excluded above).
    const uint32_t rebased = absf - 0x38000000u;  // (127-15) << 23
    const uint32_t result = rebased >> 13;
    const uint32_t rest = rebased & 0x1FFFu;
    const uint32_t rounded = result + ((rest > 0x1000u || (rest == 0x1000u && (result & 1u))) ? 1u : 0u);
    return static_cast<uint16_t>(sign | rounded);
}

float halfToFloat(uint16_t bits) {
    const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
    const uint32_t exponent = (bits >> 10) & 0x1Fu;
    const uint32_t mantissa = bits & 0x3FFu;
    uint32_t f;
    if (exponent == 0x1F) {
        f = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {
        f = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        f = sign;
    } else {
        // Subnormal half: exact in float as mantissa * 2^-24.
        const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    }
    return std::bit_cast<float>(f);
}

uint16_t floatToBFloat16(float value) {
    const uint32_t f = std::bit_cast<uint32_t>(value);
    if ((f & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((f >> 16) | 0x40u);  // quiet NaN
    const uint32_t rounding = 0x7FFFu + ((f >> 16) & 1u);
    return static_cast<uint16_t>((f + rounding) >> 16);
}

float bfloat16ToFloat(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

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
    if (dtype == DType::F32) {
        if (!out.empty()) std::memcpy(out.data(), bytes, byteCount);  // no memcpy from null, even of 0 bytes
        return out;
    }
    for (size_t i = 0; i < out.size(); ++i) {
        const uint16_t h =
            static_cast<uint16_t>(static_cast<uint16_t>(bytes[2 * i]) | (static_cast<uint16_t>(bytes[2 * i + 1]) << 8));
        out[i] = dtype == DType::F16 ? halfToFloat(h) : bfloat16ToFloat(h);
    }
    return out;
}

}  // namespace raven
