#pragma once
// Private helpers for the kernels' shape checks: every failure is a raven::Error that names the kernel,
// the field and its value.
#include <cstdint>
#include <string>

#include "base/Error.h"

namespace raven::cpu::kernels::detail {

inline void requireAtLeast(const char* kernel, const char* field, int64_t value, int64_t minimum) {
    if (value < minimum)
        fail(std::string(kernel) + ": " + field + " is " + std::to_string(value) + ", it must be at least " +
                 std::to_string(minimum),
             "check the shape passed to the kernel");
}

}  // namespace raven::cpu::kernels::detail
