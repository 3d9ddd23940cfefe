#pragma once
// Turning VkResult into raven::Error. A failed Vulkan call is something the caller can recover from
// (fall back to the CPU backend, pick another device), so it throws instead of aborting.
#include <vulkan/vulkan.h>

#include <string>

namespace raven::vulkan {

// "VK_ERROR_OUT_OF_DEVICE_MEMORY" for VK_ERROR_OUT_OF_DEVICE_MEMORY, the number for unknown codes.
std::string resultName(VkResult result);

// Throws raven::Error naming the call (`what`) and the result unless result is VK_SUCCESS.
void check(VkResult result, const char* what);

}  // namespace raven::vulkan
