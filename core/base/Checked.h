#pragma once
// Checked integer arithmetic for sizes: element counts, byte sizes and offsets computed from shapes
// that files, model specs and peers supply. Such a product can exceed 64 bits; wrapped silently it
// passes a size check (a crafted header "needs" 0 bytes) and the allocation or loop after it fails.
// These helpers say whether the exact result fits in int64_t; each caller turns a "no" into a
// raven::Error that names its input and says what to do.
//
//   const auto count = checkedProduct(shape);            // std::nullopt when it does not fit
//   if (!count) fail("shape " + text + " has more than 2^63 elements", "...");
//   const std::int64_t bytes = checkedMul(*count, itemSize, "npy data size", hint);  // throws
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>

#include "base/Error.h"

namespace raven {

// a * b and a + b, or std::nullopt when the exact result does not fit in int64_t.
inline std::optional<std::int64_t> mulOrNothing(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
    return r;
}
inline std::optional<std::int64_t> addOrNothing(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
    return r;
}

// The product of the sizes (1 for none), or std::nullopt when an intermediate or the result does
// not fit in int64_t. A size of 0 makes the product 0 whatever the other sizes are.
inline std::optional<std::int64_t> checkedProduct(std::span<const std::int64_t> sizes) {
    for (const std::int64_t s : sizes)
        if (s == 0) return 0;
    std::int64_t n = 1;
    for (const std::int64_t s : sizes) {
        const auto next = mulOrNothing(n, s);
        if (!next) return std::nullopt;
        n = *next;
    }
    return n;
}

// The same, throwing raven::Error("<what> overflows 64 bits", hint) when the result does not fit.
inline std::int64_t checkedMul(std::int64_t a, std::int64_t b, const std::string& what, const std::string& hint) {
    const auto r = mulOrNothing(a, b);
    if (!r) fail(what + ": " + std::to_string(a) + " * " + std::to_string(b) + " overflows 64 bits", hint);
    return *r;
}
inline std::int64_t checkedAdd(std::int64_t a, std::int64_t b, const std::string& what, const std::string& hint) {
    const auto r = addOrNothing(a, b);
    if (!r) fail(what + ": " + std::to_string(a) + " + " + std::to_string(b) + " overflows 64 bits", hint);
    return *r;
}

}  // namespace raven
