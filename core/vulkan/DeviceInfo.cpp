#include "vulkan/DeviceInfo.h"

#include "base/Error.h"
#include "vulkan/Check.h"
#include "vulkan/Instance.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <iomanip>
#include <sstream>

namespace raven::vulkan {
namespace {

DeviceType typeOf(VkPhysicalDeviceType type) {
    switch (type) {
        case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
            return DeviceType::Discrete;
        case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
            return DeviceType::Integrated;
        case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
            return DeviceType::Virtual;
        case VK_PHYSICAL_DEVICE_TYPE_CPU:
            return DeviceType::Cpu;
        default:
            return DeviceType::Other;
    }
}

// Lower is preferred when no selector is given.
int preference(DeviceType type) {
    switch (type) {
        case DeviceType::Discrete:
            return 0;
        case DeviceType::Integrated:
            return 1;
        case DeviceType::Virtual:
            return 2;
        case DeviceType::Cpu:
            return 3;
        case DeviceType::Other:
            return 4;
    }
    return 4;
}

std::vector<std::string> deviceExtensions(VkPhysicalDevice device) {
    std::uint32_t count = 0;
    vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr);
    std::vector<VkExtensionProperties> properties(count);
    vkEnumerateDeviceExtensionProperties(device, nullptr, &count, properties.data());
    std::vector<std::string> names;
    for (const auto& p : properties) names.emplace_back(p.extensionName);
    return names;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string mib(std::uint64_t bytes) {
    std::ostringstream out;
    if (bytes >= (1ull << 30))
        out << std::fixed << std::setprecision(1) << static_cast<double>(bytes >> 20) / 1024.0 << " GiB";
    else
        out << (bytes >> 20) << " MiB";
    return out.str();
}

DeviceInfo describe(VkPhysicalDevice physical, std::uint32_t index) {
    DeviceInfo info;
    info.index = index;
    info.physicalDevice = physical;

    VkPhysicalDeviceProperties base{};
    vkGetPhysicalDeviceProperties(physical, &base);
    info.apiVersion = base.apiVersion;
    const bool is11 = base.apiVersion >= VK_API_VERSION_1_1;
    const bool is12 = base.apiVersion >= VK_API_VERSION_1_2;
    const auto extensions = deviceExtensions(physical);

    VkPhysicalDeviceProperties2 properties{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties maintenance3{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceDriverProperties driver{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceIDProperties ids{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceSubgroupSizeControlPropertiesEXT sizeControl{
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
    const bool hasSizeControl =
        base.apiVersion >= VK_API_VERSION_1_3 || contains(extensions, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
    if (is11) {
        auto* tail = reinterpret_cast<VkBaseOutStructure*>(&properties);
        auto append = [&tail](auto& next) {
            tail->pNext = reinterpret_cast<VkBaseOutStructure*>(&next);
            tail = reinterpret_cast<VkBaseOutStructure*>(&next);
        };
        append(subgroup);
        append(maintenance3);
        append(ids);
        if (is12) append(driver);
        if (hasSizeControl) append(sizeControl);
        vkGetPhysicalDeviceProperties2(physical, &properties);
    } else {
        properties.properties = base;
    }
    const VkPhysicalDeviceProperties& p = properties.properties;
    const VkPhysicalDeviceLimits& limits = p.limits;

    info.name = p.deviceName;
    info.type = typeOf(p.deviceType);
    info.vendorId = p.vendorID;
    info.deviceId = p.deviceID;
    info.driverVersion = p.driverVersion;
    std::memcpy(info.pipelineCacheUUID.data(), p.pipelineCacheUUID, VK_UUID_SIZE);
    if (is11) std::memcpy(info.deviceUUID.data(), ids.deviceUUID, VK_UUID_SIZE);
    if (is12) {
        info.driverName = driver.driverName;
        info.driverInfo = driver.driverInfo;
    }
    info.maxMemoryAllocationSize = is11 ? maintenance3.maxMemoryAllocationSize : 0;
    info.subgroupSize = is11 ? subgroup.subgroupSize : 1;
    info.subgroupOperations = is11 ? subgroup.supportedOperations : 0;
    info.subgroupInCompute = is11 && (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
    info.minSubgroupSize = hasSizeControl ? sizeControl.minSubgroupSize : info.subgroupSize;
    info.maxSubgroupSize = hasSizeControl ? sizeControl.maxSubgroupSize : info.subgroupSize;

    info.maxComputeSharedMemorySize = limits.maxComputeSharedMemorySize;
    for (int axis = 0; axis < 3; ++axis) {
        info.maxComputeWorkGroupSize[axis] = limits.maxComputeWorkGroupSize[axis];
        info.maxComputeWorkGroupCount[axis] = limits.maxComputeWorkGroupCount[axis];
    }
    info.maxComputeWorkGroupInvocations = limits.maxComputeWorkGroupInvocations;
    info.maxStorageBufferRange = limits.maxStorageBufferRange;
    info.minStorageBufferOffsetAlignment = limits.minStorageBufferOffsetAlignment;
    info.maxPushConstantsSize = limits.maxPushConstantsSize;
    info.timestampPeriod = limits.timestampPeriod;

    VkPhysicalDeviceMemoryProperties memory{};
    vkGetPhysicalDeviceMemoryProperties(physical, &memory);
    for (std::uint32_t h = 0; h < memory.memoryHeapCount; ++h)
        if (memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            info.deviceLocalBytes += memory.memoryHeaps[h].size;

    VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    VkPhysicalDeviceVulkan11Features features11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
    VkPhysicalDeviceVulkan12Features features12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    if (is12) {
        features.pNext = &features11;
        features11.pNext = &features12;
    }
    if (is11)
        vkGetPhysicalDeviceFeatures2(physical, &features);
    else
        vkGetPhysicalDeviceFeatures(physical, &features.features);
    info.shaderInt16 = features.features.shaderInt16;
    info.shaderInt64 = features.features.shaderInt64;
    info.shaderFloat64 = features.features.shaderFloat64;
    if (is12) {
        info.shaderFloat16 = features12.shaderFloat16;
        info.shaderInt8 = features12.shaderInt8;
        info.storageBuffer8BitAccess = features12.storageBuffer8BitAccess;
        info.storageBuffer16BitAccess = features11.storageBuffer16BitAccess;
    }
    info.cooperativeMatrix = contains(extensions, "VK_KHR_cooperative_matrix");

    // The compute queue: a compute family without graphics when there is one (a dedicated compute
    // queue runs beside the desktop's rendering), otherwise any family with compute.
    std::uint32_t familyCount = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &familyCount, nullptr);
    std::vector<VkQueueFamilyProperties> families(familyCount);
    vkGetPhysicalDeviceQueueFamilyProperties(physical, &familyCount, families.data());
    for (int pass = 0; pass < 2 && info.computeQueueFamily == UINT32_MAX; ++pass) {
        for (std::uint32_t f = 0; f < familyCount; ++f) {
            const VkQueueFlags flags = families[f].queueFlags;
            if (!(flags & VK_QUEUE_COMPUTE_BIT) || families[f].queueCount == 0) continue;
            if (pass == 0 && (flags & VK_QUEUE_GRAPHICS_BIT)) continue;
            info.computeQueueFamily = f;
            info.timestampValidBits = families[f].timestampValidBits;
            break;
        }
    }

    if (!is12)
        info.unusableReason = "supports Vulkan " + apiVersionString(info.apiVersion) + ", Raven needs 1.2";
    else if (info.computeQueueFamily == UINT32_MAX)
        info.unusableReason = "has no compute queue";
    info.usable = info.unusableReason.empty();
    return info;
}

}  // namespace

std::string_view toString(DeviceType type) {
    switch (type) {
        case DeviceType::Discrete:
            return "discrete";
        case DeviceType::Integrated:
            return "integrated";
        case DeviceType::Virtual:
            return "virtual";
        case DeviceType::Cpu:
            return "cpu";
        case DeviceType::Other:
            return "other";
    }
    return "other";
}

std::vector<DeviceInfo> listDevices(const Instance& instance) {
    std::uint32_t count = 0;
    check(vkEnumeratePhysicalDevices(instance.handle(), &count, nullptr), "vkEnumeratePhysicalDevices");
    std::vector<VkPhysicalDevice> physical(count);
    check(vkEnumeratePhysicalDevices(instance.handle(), &count, physical.data()), "vkEnumeratePhysicalDevices");
    if (count == 0)
        throw NoVulkanDevice("no Vulkan device found: the Vulkan loader works but no driver offers a device",
                             "install mesa-vulkan-drivers or your GPU's driver; Raven will use the CPU backend");
    std::vector<DeviceInfo> devices;
    for (std::uint32_t i = 0; i < count; ++i) devices.push_back(describe(physical[i], i));
    return devices;
}

const DeviceInfo& pick(const std::vector<DeviceInfo>& devices, std::string_view selector) {
    const std::string available = "the devices are:\n" + describeDevices(devices);
    const DeviceInfo* chosen = nullptr;
    if (selector.empty()) {
        for (const auto& device : devices)
            if (device.usable && (!chosen || preference(device.type) < preference(chosen->type))) chosen = &device;
        if (!chosen)
            throw NoVulkanDevice("no usable Vulkan device: every device lacks Vulkan 1.2 or a compute queue",
                                 "update the GPU driver; Raven will use the CPU backend. " + available);
        return *chosen;
    }
    std::uint32_t index = 0;
    const auto [end, error] = std::from_chars(selector.data(), selector.data() + selector.size(), index);
    if (error == std::errc() && end == selector.data() + selector.size()) {
        for (const auto& device : devices)
            if (device.index == index) chosen = &device;
        RAVEN_CHECK(chosen != nullptr, "there is no Vulkan device " + std::string(selector),
                    "pick one of the listed indices; " + available);
    } else {
        const std::string wanted = lower(selector);
        for (const auto& device : devices)
            if (lower(device.name).find(wanted) != std::string::npos) {
                chosen = &device;
                break;
            }
        RAVEN_CHECK(chosen != nullptr, "no Vulkan device's name contains \"" + std::string(selector) + "\"",
                    "pick a device by index or by part of its name; " + available);
    }
    RAVEN_CHECK(chosen->usable,
                "Vulkan device " + std::to_string(chosen->index) + " (" + chosen->name + ") " + chosen->unusableReason,
                "pick another device, or use the CPU backend; " + available);
    return *chosen;
}

std::string apiVersionString(std::uint32_t v) {
    return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
           std::to_string(VK_API_VERSION_PATCH(v));
}

std::string driverVersionString(std::uint32_t vendorId, std::uint32_t v) {
    if (vendorId == 0x10DE)  // NVIDIA: 10.8.8.6 bits
        return std::to_string(v >> 22) + "." + std::to_string((v >> 14) & 0xff) + "." +
               std::to_string((v >> 6) & 0xff) + "." + std::to_string(v & 0x3f);
    return apiVersionString(v);
}

std::string subgroupOperationsString(VkSubgroupFeatureFlags operations) {
    static const std::pair<VkSubgroupFeatureFlagBits, const char*> names[] = {
        {VK_SUBGROUP_FEATURE_BASIC_BIT, "basic"},
        {VK_SUBGROUP_FEATURE_VOTE_BIT, "vote"},
        {VK_SUBGROUP_FEATURE_ARITHMETIC_BIT, "arithmetic"},
        {VK_SUBGROUP_FEATURE_BALLOT_BIT, "ballot"},
        {VK_SUBGROUP_FEATURE_SHUFFLE_BIT, "shuffle"},
        {VK_SUBGROUP_FEATURE_SHUFFLE_RELATIVE_BIT, "shuffle_relative"},
        {VK_SUBGROUP_FEATURE_CLUSTERED_BIT, "clustered"},
        {VK_SUBGROUP_FEATURE_QUAD_BIT, "quad"},
    };
    std::string out;
    for (const auto& [bit, name] : names) {
        if (!(operations & bit)) continue;
        if (!out.empty()) out += ' ';  // appending, not "" + name: GCC 12 -O3 warns falsely on that (bug 105329)
        out += name;
    }
    return out.empty() ? "none" : out;
}

std::string describeDevices(const std::vector<DeviceInfo>& devices) {
    if (devices.empty()) return "no Vulkan devices\n";
    std::ostringstream out;
    for (const auto& d : devices) {
        out << d.index << ": " << d.name << " (" << toString(d.type) << ")";
        if (!d.usable) out << " - not usable: " << d.unusableReason;
        out << "\n";
        out << "   vendor 0x" << std::hex << d.vendorId << " device 0x" << d.deviceId << std::dec << ", Vulkan "
            << apiVersionString(d.apiVersion) << ", driver "
            << (d.driverName.empty() ? std::string() : d.driverName + " ")
            << driverVersionString(d.vendorId, d.driverVersion);
        if (!d.driverInfo.empty()) out << " (" << d.driverInfo << ")";
        out << "\n";
        out << "   memory " << mib(d.deviceLocalBytes) << " device-local, largest allocation "
            << mib(d.maxMemoryAllocationSize) << ", storage binding up to " << mib(d.maxStorageBufferRange)
            << ", offset alignment " << d.minStorageBufferOffsetAlignment << "\n";
        out << "   subgroup " << d.subgroupSize;
        if (d.minSubgroupSize != d.maxSubgroupSize) out << " (" << d.minSubgroupSize << "-" << d.maxSubgroupSize << ")";
        out << (d.subgroupInCompute ? "" : " (not in compute)") << ": "
            << subgroupOperationsString(d.subgroupOperations) << "\n";
        out << "   workgroup: " << d.maxComputeWorkGroupInvocations << " invocations, size "
            << d.maxComputeWorkGroupSize[0] << "x" << d.maxComputeWorkGroupSize[1] << "x"
            << d.maxComputeWorkGroupSize[2] << ", count " << d.maxComputeWorkGroupCount[0] << "x"
            << d.maxComputeWorkGroupCount[1] << "x" << d.maxComputeWorkGroupCount[2] << ", shared memory "
            << d.maxComputeSharedMemorySize / 1024 << " KiB, " << d.maxPushConstantsSize << " B push constants\n";
        out << "   shader types:";
        const std::pair<bool, const char*> flags[] = {{d.shaderFloat16, "float16"},
                                                      {d.shaderInt8, "int8"},
                                                      {d.shaderInt16, "int16"},
                                                      {d.shaderInt64, "int64"},
                                                      {d.shaderFloat64, "float64"},
                                                      {d.storageBuffer16BitAccess, "16-bit storage"},
                                                      {d.storageBuffer8BitAccess, "8-bit storage"},
                                                      {d.cooperativeMatrix, "cooperative matrix"}};
        bool any = false;
        for (const auto& [on, name] : flags)
            if (on) {
                out << (any ? ", " : " ") << name;
                any = true;
            }
        if (!any) out << " float32 only";
        out << "; timestamps ";
        if (d.timestampValidBits == 0)
            out << "unsupported";
        else
            out << d.timestampPeriod << " ns/tick";
        out << "\n";
    }
    return out.str();
}

}  // namespace raven::vulkan
