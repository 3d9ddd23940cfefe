#pragma once
// The SPIR-V of every compute shader in compute-shaders/, compiled and validated at build time and
// embedded in the binary. Look one up by its file name without ".comp".
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace raven::shaders {

// The shader's SPIR-V words, or an empty span if no shader has that name.
std::span<const std::uint32_t> find(std::string_view name);

// Names of all embedded shaders, sorted.
std::vector<std::string_view> names();

}  // namespace raven::shaders
