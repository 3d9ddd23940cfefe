#include "vulkan/Instance.h"

#include "base/Version.h"
#include "vulkan/Check.h"

#include <cstdlib>
#include <cstring>

namespace raven::vulkan {
namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

VKAPI_ATTR VkBool32 VKAPI_CALL onDebugMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                              VkDebugUtilsMessageTypeFlagsEXT /*types*/,
                                              const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
    std::string text = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) ? "error" : "warning";
    if (data->pMessageIdName) text += std::string(" [") + data->pMessageIdName + "]";
    text += ": ";
    text += data->pMessage ? data->pMessage : "(no text)";
    static_cast<Instance*>(user)->record(std::move(text));
    return VK_FALSE;  // never abort the call: the test decides what a message means
}

bool hasLayer(const char* name) {
    std::uint32_t count = 0;
    vkEnumerateInstanceLayerProperties(&count, nullptr);
    std::vector<VkLayerProperties> layers(count);
    vkEnumerateInstanceLayerProperties(&count, layers.data());
    for (const auto& layer : layers)
        if (std::strcmp(layer.layerName, name) == 0) return true;
    return false;
}

bool hasInstanceExtension(const char* name) {
    std::uint32_t count = 0;
    vkEnumerateInstanceExtensionProperties(nullptr, &count, nullptr);
    std::vector<VkExtensionProperties> extensions(count);
    vkEnumerateInstanceExtensionProperties(nullptr, &count, extensions.data());
    for (const auto& extension : extensions)
        if (std::strcmp(extension.extensionName, name) == 0) return true;
    return false;
}

[[noreturn]] void failNoDriver(const std::string& detail) {
    throw NoVulkanDevice("no Vulkan driver found (" + detail + ")",
                         "install mesa-vulkan-drivers or your GPU's driver; Raven will use the CPU backend");
}

}  // namespace

bool Instance::validationRequestedByEnvironment() {
    const char* value = std::getenv("RAVEN_VULKAN_VALIDATION");
    return value && *value && std::strcmp(value, "0") != 0;
}

Instance::Instance(const InstanceOptions& options) {
    const bool validation = options.validation.value_or(validationRequestedByEnvironment());

    std::uint32_t loaderVersion = VK_API_VERSION_1_0;
    if (vkEnumerateInstanceVersion(&loaderVersion) != VK_SUCCESS || loaderVersion < VK_API_VERSION_1_2)
        failNoDriver("the Vulkan loader is older than 1.2");

    std::vector<const char*> layers;
    std::vector<const char*> extensions;
    // Portability drivers (MoltenVK and friends) only show up when asked for.
    VkInstanceCreateFlags flags = 0;
    if (hasInstanceExtension(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        extensions.push_back(VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    if (validation) {
        RAVEN_CHECK(hasLayer(kValidationLayer),
                    "Vulkan validation was requested but VK_LAYER_KHRONOS_validation is not installed",
                    "install vulkan-validationlayers, or unset RAVEN_VULKAN_VALIDATION");
        RAVEN_CHECK(hasInstanceExtension(VK_EXT_DEBUG_UTILS_EXTENSION_NAME),
                    "Vulkan validation was requested but the loader lacks VK_EXT_debug_utils",
                    "install vulkan-validationlayers, or unset RAVEN_VULKAN_VALIDATION");
        layers.push_back(kValidationLayer);
        extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    }

    VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "Raven";
    app.applicationVersion =
        VK_MAKE_API_VERSION(0, static_cast<std::uint32_t>(kVersionMajor), static_cast<std::uint32_t>(kVersionMinor),
                            static_cast<std::uint32_t>(kVersionPatch));
    app.pEngineName = "Raven";
    app.engineVersion = app.applicationVersion;
    app.apiVersion = VK_API_VERSION_1_2;

    VkDebugUtilsMessengerCreateInfoEXT messengerInfo{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
    messengerInfo.messageSeverity =
        VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    messengerInfo.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                                VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
    messengerInfo.pfnUserCallback = onDebugMessage;
    messengerInfo.pUserData = this;

    // Synchronization validation checks the barriers the Recorder inserts between dependent dispatches.
    const VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
    features.enabledValidationFeatureCount = 1;
    features.pEnabledValidationFeatures = enables;
    features.pNext = &messengerInfo;  // also catches messages from vkCreateInstance itself

    VkInstanceCreateInfo info{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    info.flags = flags;
    info.pApplicationInfo = &app;
    info.enabledLayerCount = static_cast<std::uint32_t>(layers.size());
    info.ppEnabledLayerNames = layers.data();
    info.enabledExtensionCount = static_cast<std::uint32_t>(extensions.size());
    info.ppEnabledExtensionNames = extensions.data();
    if (validation) info.pNext = &features;

    const VkResult result = vkCreateInstance(&info, nullptr, &instance_);
    if (result == VK_ERROR_INCOMPATIBLE_DRIVER) failNoDriver("the loader found no driver");
    check(result, "vkCreateInstance");

    if (validation) {
        auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
        RAVEN_ASSERT(create != nullptr, "VK_EXT_debug_utils was enabled but vkCreateDebugUtilsMessengerEXT is missing");
        const VkResult created = create(instance_, &messengerInfo, nullptr, &messenger_);
        if (created != VK_SUCCESS) {
            vkDestroyInstance(instance_, nullptr);
            check(created, "vkCreateDebugUtilsMessengerEXT");
        }
    }
}

Instance::~Instance() {
    if (messenger_ != VK_NULL_HANDLE) {
        auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
            vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
        if (destroy) destroy(instance_, messenger_, nullptr);
    }
    vkDestroyInstance(instance_, nullptr);
}

void Instance::record(std::string message) {
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(message));
}

std::size_t Instance::validationMessageCount() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
}

std::vector<std::string> Instance::validationMessages() const {
    std::lock_guard lock(mutex_);
    return messages_;
}

}  // namespace raven::vulkan
