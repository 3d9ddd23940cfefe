#include "vulkan/Check.h"

#include "base/Error.h"

namespace raven::vulkan {

std::string resultName(VkResult result) {
    switch (result) {
#define RAVEN_VK_RESULT(name) \
    case name:                \
        return #name;
        RAVEN_VK_RESULT(VK_SUCCESS)
        RAVEN_VK_RESULT(VK_NOT_READY)
        RAVEN_VK_RESULT(VK_TIMEOUT)
        RAVEN_VK_RESULT(VK_INCOMPLETE)
        RAVEN_VK_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
        RAVEN_VK_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        RAVEN_VK_RESULT(VK_ERROR_INITIALIZATION_FAILED)
        RAVEN_VK_RESULT(VK_ERROR_DEVICE_LOST)
        RAVEN_VK_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
        RAVEN_VK_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
        RAVEN_VK_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
        RAVEN_VK_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
        RAVEN_VK_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
        RAVEN_VK_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
        RAVEN_VK_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED)
        RAVEN_VK_RESULT(VK_ERROR_FRAGMENTED_POOL)
        RAVEN_VK_RESULT(VK_ERROR_OUT_OF_POOL_MEMORY)
        RAVEN_VK_RESULT(VK_ERROR_FRAGMENTATION)
        RAVEN_VK_RESULT(VK_ERROR_UNKNOWN)
#undef RAVEN_VK_RESULT
        default:
            return "VkResult " + std::to_string(static_cast<int>(result));
    }
}

void check(VkResult result, const char* what) {
    if (result == VK_SUCCESS) return;
    std::string hint = "update the GPU driver, or run with --device cpu to use the CPU backend";
    if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY)
        hint = "the model or batch does not fit in this device's memory: lower the batch size or pick another device";
    else if (result == VK_ERROR_DEVICE_LOST)
        hint =
            "the GPU driver reset the device (a crash or a watchdog timeout); restart Raven, and update the driver "
            "if it happens again";
    fail(std::string("Vulkan: ") + what + " failed with " + resultName(result), hint);
}

}  // namespace raven::vulkan
