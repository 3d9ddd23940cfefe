#pragma once
// What each Vulkan device on this machine offers, and choosing one.
//
// Kernels size themselves from these numbers: never assume a subgroup of 32, 48 KiB of shared memory
// or 65535 workgroups. listDevices() reports every physical device the loader sees (lavapipe, the CPU
// implementation, included); `usable` says whether Raven can compute on it (Vulkan 1.2 and a compute
// queue). pick() chooses by index ("1"), by name substring ("llvmpipe", case-insensitive), or, with an
// empty selector, the best kind: discrete, then integrated, virtual, CPU.
//
//   auto devices = listDevices(instance);
//   std::cout << describeDevices(devices);     // what `raven devices` prints
//   const DeviceInfo& chosen = pick(devices, "");
#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace raven::vulkan {

class Instance;

enum class DeviceType { Discrete, Integrated, Virtual, Cpu, Other };
std::string_view toString(DeviceType type);  // "discrete", "integrated", "virtual", "cpu", "other"

struct DeviceInfo {
    std::uint32_t index = 0;  // position in the loader's list; pick("N") selects it
    std::string name;         // VkPhysicalDeviceProperties::deviceName
    DeviceType type = DeviceType::Other;
    std::uint32_t vendorId = 0;
    std::uint32_t deviceId = 0;
    std::uint32_t driverVersion = 0;  // raw, vendor-specific encoding; see driverVersionString()
    std::string driverName;           // VkPhysicalDeviceDriverProperties, e.g. "llvmpipe", "NVIDIA"
    std::string driverInfo;           // free text from the driver, e.g. "Mesa 22.3.6 (LLVM 15.0.6)"
    std::uint32_t apiVersion = 0;     // highest Vulkan version the device supports (VK_API_VERSION_*)
    std::array<std::uint8_t, VK_UUID_SIZE> pipelineCacheUUID{};
    // VkPhysicalDeviceIDProperties::deviceUUID: the same device across reboots, driver updates and a
    // changed enumeration order (all zero before Vulkan 1.1).
    std::array<std::uint8_t, VK_UUID_SIZE> deviceUUID{};

    std::uint64_t deviceLocalBytes = 0;         // sum of the DEVICE_LOCAL heaps
    std::uint64_t maxMemoryAllocationSize = 0;  // largest single vkAllocateMemory

    std::uint32_t subgroupSize = 0;     // default subgroup size (lavapipe 8, NVIDIA 32, AMD 64, Intel 8-32)
    std::uint32_t minSubgroupSize = 0;  // VK_EXT_subgroup_size_control range; both = subgroupSize without it
    std::uint32_t maxSubgroupSize = 0;
    VkSubgroupFeatureFlags subgroupOperations = 0;  // VK_SUBGROUP_FEATURE_*_BIT
    bool subgroupInCompute = false;                 // subgroup operations allowed in compute shaders

    std::uint32_t maxComputeSharedMemorySize = 0;  // bytes of shared memory per workgroup
    std::array<std::uint32_t, 3> maxComputeWorkGroupSize{};
    std::array<std::uint32_t, 3> maxComputeWorkGroupCount{};
    std::uint32_t maxComputeWorkGroupInvocations = 0;
    std::uint32_t maxStorageBufferRange = 0;            // largest byte range of one storage-buffer binding
    std::uint64_t minStorageBufferOffsetAlignment = 0;  // binding offsets are multiples of this
    std::uint32_t maxPushConstantsSize = 0;             // at least 128
    float timestampPeriod = 0;                          // nanoseconds per timestamp tick
    std::uint32_t timestampValidBits = 0;               // of the compute queue; 0 = no timestamps

    bool shaderFloat16 = false;  // float16_t arithmetic in shaders
    bool shaderInt8 = false;     // int8_t arithmetic in shaders
    bool shaderInt16 = false;
    bool shaderInt64 = false;
    bool shaderFloat64 = false;
    bool storageBuffer16BitAccess = false;  // 16-bit loads/stores from storage buffers
    bool storageBuffer8BitAccess = false;
    bool cooperativeMatrix = false;  // VK_KHR_cooperative_matrix is offered

    std::uint32_t computeQueueFamily = UINT32_MAX;  // UINT32_MAX: none
    bool usable = false;                            // Raven can compute on it
    std::string unusableReason;                     // why not, when !usable

    VkPhysicalDevice physicalDevice = VK_NULL_HANDLE;  // valid while the Instance lives
};

// Every physical device, in the loader's order. Throws NoVulkanDevice when there is none.
std::vector<DeviceInfo> listDevices(const Instance& instance);

// The device a selector names: "" = the best usable kind (discrete, integrated, virtual, cpu; the
// lower index first on a tie), a number = that index, otherwise a case-insensitive substring of the
// name. Throws raven::Error (listing the devices) when nothing usable matches.
const DeviceInfo& pick(const std::vector<DeviceInfo>& devices, std::string_view selector);

// "1.3.230" for a VK_API_VERSION_* value.
std::string apiVersionString(std::uint32_t apiVersion);
// The driver version decoded the way its vendor encodes it (NVIDIA differs from the Vulkan scheme).
std::string driverVersionString(std::uint32_t vendorId, std::uint32_t driverVersion);
// "basic vote arithmetic ballot shuffle shuffle_relative clustered quad".
std::string subgroupOperationsString(VkSubgroupFeatureFlags operations);

// A readable, multi-line description of each device with the limits kernels care about (what
// `raven devices` prints). An empty list gives a line saying so.
std::string describeDevices(const std::vector<DeviceInfo>& devices);

}  // namespace raven::vulkan
