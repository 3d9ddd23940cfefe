#pragma once
// Compute pipelines, created on first use from the embedded SPIR-V and kept for the Device's life.
//
// A pipeline is named by a PipelineDesc: the shader (compute-shaders/<shader>.comp), how many storage
// buffers it binds (set 0, bindings 0..n-1), the size of its push constants (shapes and strides, at
// most 128 bytes) and its specialization constants (constant_id i = specialization[i]: workgroup and
// tile sizes, chosen per device). get() returns the same Pipeline for the same description.
//
// Every pipeline is created with VK_PIPELINE_CREATE_DISPATCH_BASE_BIT, so that the Recorder can split
// a dispatch larger than maxComputeWorkGroupCount into several vkCmdDispatchBase calls. Shaders
// therefore index by gl_GlobalInvocationID / gl_WorkGroupID (which include the base) and take sizes
// from push constants, never from gl_NumWorkGroups.
//
// The driver's compiled code goes through one VkPipelineCache, loaded from a file at start and saved
// at the end, so a second run skips shader compilation. The file is only used when its header names
// this device: vendor, device id and pipelineCacheUUID (which changes with each driver version);
// otherwise it is ignored with a note and replaced at the next save.
#include <vulkan/vulkan.h>

#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace raven::vulkan {

struct DeviceInfo;

struct PipelineDesc {
    std::string shader;                         // file name in compute-shaders/ without ".comp"
    std::uint32_t bindings = 0;                 // storage buffers at set 0, bindings 0..bindings-1
    std::uint32_t pushConstantBytes = 0;        // multiple of 4, at most the device's limit (>= 128)
    std::vector<std::uint32_t> specialization;  // constant_id i gets specialization[i] (floats bit-cast)

    auto operator<=>(const PipelineDesc&) const = default;
};

struct Pipeline {
    PipelineDesc desc;
    VkPipeline pipeline = VK_NULL_HANDLE;
    VkPipelineLayout layout = VK_NULL_HANDLE;
    VkDescriptorSetLayout setLayout = VK_NULL_HANDLE;
};

class PipelineCache {
public:
    // file: where the driver's cache is kept between runs; empty = only in memory.
    PipelineCache(VkDevice device, const DeviceInfo& info, std::filesystem::path file);
    ~PipelineCache();  // saves (when something new was compiled) and destroys every pipeline
    PipelineCache(const PipelineCache&) = delete;
    PipelineCache& operator=(const PipelineCache&) = delete;

    // The pipeline for desc, created now if this is its first use. Throws raven::Error for an unknown
    // shader or a push-constant size the device does not allow.
    const Pipeline& get(const PipelineDesc& desc);

    // Writes the driver's cache to the file (atomically: a temporary file, then a rename). A failure
    // to write is a note, not an error: the cache only saves time.
    void save();

    struct Stats {
        std::size_t created = 0;      // pipelines compiled by this object
        std::size_t hits = 0;         // get() calls answered from memory
        std::size_t loadedBytes = 0;  // size of the file accepted at start (0: none or rejected)
        std::size_t savedBytes = 0;   // size of the last save
    };
    const Stats& stats() const noexcept { return stats_; }
    const std::filesystem::path& file() const noexcept { return file_; }
    // What happened to the on-disk cache (loaded, ignored and why, failed to save), for logs.
    const std::vector<std::string>& notes() const noexcept { return notes_; }

    // $XDG_CACHE_HOME/raven, else $HOME/.cache/raven, else empty (no disk cache).
    static std::filesystem::path defaultDirectory();
    // The cache file for a device inside dir: "vulkan-pipelines-<vendor>-<device>.bin".
    static std::filesystem::path fileIn(const std::filesystem::path& dir, const DeviceInfo& info);

private:
    std::vector<char> loadMatching(const DeviceInfo& info);

    VkDevice device_;
    std::uint32_t maxPushConstantsSize_;
    std::filesystem::path file_;
    VkPipelineCache cache_ = VK_NULL_HANDLE;
    std::map<PipelineDesc, std::unique_ptr<Pipeline>> pipelines_;
    bool dirty_ = false;
    Stats stats_;
    std::vector<std::string> notes_;
};

}  // namespace raven::vulkan
