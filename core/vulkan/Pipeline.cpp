#include "vulkan/Pipeline.h"

#include "Shaders.h"
#include "base/Error.h"
#include "vulkan/Check.h"
#include "vulkan/DeviceInfo.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace raven::vulkan {
namespace {

// The header every driver puts in front of its pipeline cache data (Vulkan spec, "Pipeline Cache").
struct CacheHeader {
    std::uint32_t headerSize;
    std::uint32_t headerVersion;
    std::uint32_t vendorId;
    std::uint32_t deviceId;
    std::uint8_t uuid[VK_UUID_SIZE];
};
static_assert(sizeof(CacheHeader) == 32);

std::string hex(std::uint32_t value) {
    std::ostringstream out;
    out << std::hex << value;
    return out.str();
}

}  // namespace

std::filesystem::path PipelineCache::defaultDirectory() {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "raven";
    if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "raven";
    return {};
}

std::filesystem::path PipelineCache::fileIn(const std::filesystem::path& dir, const DeviceInfo& info) {
    return dir / ("vulkan-pipelines-" + hex(info.vendorId) + "-" + hex(info.deviceId) + ".bin");
}

std::vector<char> PipelineCache::loadMatching(const DeviceInfo& info) {
    std::error_code error;
    if (file_.empty() || !std::filesystem::exists(file_, error)) return {};
    std::ifstream in(file_, std::ios::binary);
    std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string name = "pipeline cache " + file_.string();
    if (!in.good() && !in.eof()) {
        notes_.push_back(name + " could not be read; compiling shaders afresh");
        return {};
    }
    CacheHeader header{};
    if (data.size() < sizeof header) {
        notes_.push_back(name + " is too short to be a pipeline cache; ignored");
        return {};
    }
    std::memcpy(&header, data.data(), sizeof header);
    if (header.headerSize < sizeof header || header.headerSize > data.size() ||
        header.headerVersion != VK_PIPELINE_CACHE_HEADER_VERSION_ONE) {
        notes_.push_back(name + " has no valid pipeline cache header; ignored");
        return {};
    }
    if (header.vendorId != info.vendorId || header.deviceId != info.deviceId ||
        std::memcmp(header.uuid, info.pipelineCacheUUID.data(), VK_UUID_SIZE) != 0) {
        notes_.push_back(name +
                         " was written by another device or driver version (pipelineCacheUUID differs); "
                         "ignored, it will be replaced");
        return {};
    }
    notes_.push_back(name + ": loaded " + std::to_string(data.size()) + " bytes");
    return data;
}

PipelineCache::PipelineCache(VkDevice device, const DeviceInfo& info, std::filesystem::path file)
    : device_(device), maxPushConstantsSize_(info.maxPushConstantsSize), file_(std::move(file)) {
    const std::vector<char> initial = loadMatching(info);
    VkPipelineCacheCreateInfo cacheInfo{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    cacheInfo.initialDataSize = initial.size();
    cacheInfo.pInitialData = initial.empty() ? nullptr : initial.data();
    VkResult result = vkCreatePipelineCache(device_, &cacheInfo, nullptr, &cache_);
    if (result != VK_SUCCESS && !initial.empty()) {
        // The header matched but the driver refused the body (truncated, say): start empty.
        notes_.push_back("pipeline cache " + file_.string() + " was refused by the driver (" + resultName(result) +
                         "); starting empty");
        cacheInfo.initialDataSize = 0;
        cacheInfo.pInitialData = nullptr;
        result = vkCreatePipelineCache(device_, &cacheInfo, nullptr, &cache_);
    } else if (!initial.empty()) {
        stats_.loadedBytes = initial.size();
    }
    check(result, "vkCreatePipelineCache");
}

PipelineCache::~PipelineCache() {
    if (dirty_) save();
    for (auto& [desc, p] : pipelines_) {
        vkDestroyPipeline(device_, p->pipeline, nullptr);
        vkDestroyPipelineLayout(device_, p->layout, nullptr);
        vkDestroyDescriptorSetLayout(device_, p->setLayout, nullptr);
    }
    vkDestroyPipelineCache(device_, cache_, nullptr);
}

const Pipeline& PipelineCache::get(const PipelineDesc& desc) {
    if (auto it = pipelines_.find(desc); it != pipelines_.end()) {
        ++stats_.hits;
        return *it->second;
    }
    const std::span<const std::uint32_t> code = shaders::find(desc.shader);
    RAVEN_CHECK(!code.empty(), "no compute shader named \"" + desc.shader + "\" is embedded in this build",
                "add compute-shaders/" + desc.shader + ".comp and rebuild");
    RAVEN_CHECK(desc.pushConstantBytes % 4 == 0 && desc.pushConstantBytes <= maxPushConstantsSize_,
                "shader " + desc.shader + " wants " + std::to_string(desc.pushConstantBytes) +
                    " bytes of push constants; the device allows " + std::to_string(maxPushConstantsSize_) +
                    " (and a multiple of 4)",
                "move the larger parameters into a storage buffer");

    auto p = std::make_unique<Pipeline>();
    p->desc = desc;
    // Build into *p step by step; on failure the handles made so far are destroyed below.
    auto cleanup = [this, &p]() {
        if (p->pipeline) vkDestroyPipeline(device_, p->pipeline, nullptr);
        if (p->layout) vkDestroyPipelineLayout(device_, p->layout, nullptr);
        if (p->setLayout) vkDestroyDescriptorSetLayout(device_, p->setLayout, nullptr);
    };
    VkShaderModule module = VK_NULL_HANDLE;
    try {
        std::vector<VkDescriptorSetLayoutBinding> bindings(desc.bindings);
        for (std::uint32_t b = 0; b < desc.bindings; ++b)
            bindings[b] = {b, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
        VkDescriptorSetLayoutCreateInfo setInfo{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
        setInfo.bindingCount = desc.bindings;
        setInfo.pBindings = bindings.data();
        check(vkCreateDescriptorSetLayout(device_, &setInfo, nullptr, &p->setLayout), "vkCreateDescriptorSetLayout");

        const VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc.pushConstantBytes};
        VkPipelineLayoutCreateInfo layoutInfo{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
        layoutInfo.setLayoutCount = 1;
        layoutInfo.pSetLayouts = &p->setLayout;
        layoutInfo.pushConstantRangeCount = desc.pushConstantBytes > 0 ? 1 : 0;
        layoutInfo.pPushConstantRanges = &push;
        check(vkCreatePipelineLayout(device_, &layoutInfo, nullptr, &p->layout), "vkCreatePipelineLayout");

        VkShaderModuleCreateInfo moduleInfo{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
        moduleInfo.codeSize = code.size_bytes();
        moduleInfo.pCode = code.data();
        check(vkCreateShaderModule(device_, &moduleInfo, nullptr, &module), "vkCreateShaderModule");

        std::vector<VkSpecializationMapEntry> entries(desc.specialization.size());
        for (std::uint32_t i = 0; i < entries.size(); ++i)
            entries[i] = {i, static_cast<std::uint32_t>(i * sizeof(std::uint32_t)), sizeof(std::uint32_t)};
        VkSpecializationInfo specialization{};
        specialization.mapEntryCount = static_cast<std::uint32_t>(entries.size());
        specialization.pMapEntries = entries.data();
        specialization.dataSize = desc.specialization.size() * sizeof(std::uint32_t);
        specialization.pData = desc.specialization.data();

        VkComputePipelineCreateInfo pipelineInfo{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
        pipelineInfo.flags = VK_PIPELINE_CREATE_DISPATCH_BASE_BIT;
        pipelineInfo.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
        pipelineInfo.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
        pipelineInfo.stage.module = module;
        pipelineInfo.stage.pName = "main";
        pipelineInfo.stage.pSpecializationInfo = entries.empty() ? nullptr : &specialization;
        pipelineInfo.layout = p->layout;
        check(vkCreateComputePipelines(device_, cache_, 1, &pipelineInfo, nullptr, &p->pipeline),
              ("vkCreateComputePipelines (" + desc.shader + ")").c_str());
    } catch (...) {
        if (module) vkDestroyShaderModule(device_, module, nullptr);
        cleanup();
        throw;
    }
    vkDestroyShaderModule(device_, module, nullptr);  // the pipeline keeps what it needs
    ++stats_.created;
    dirty_ = true;
    return *pipelines_.emplace(desc, std::move(p)).first->second;
}

void PipelineCache::save() {
    if (file_.empty()) return;
    std::size_t size = 0;
    if (vkGetPipelineCacheData(device_, cache_, &size, nullptr) != VK_SUCCESS) return;
    std::vector<char> data(size);
    if (vkGetPipelineCacheData(device_, cache_, &size, data.data()) != VK_SUCCESS) return;
    data.resize(size);

    std::error_code error;
    std::filesystem::create_directories(file_.parent_path(), error);
    const std::filesystem::path temporary = file_.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!out) {
            notes_.push_back("pipeline cache could not be written to " + temporary.string() +
                             "; shaders will be compiled again next time");
            return;
        }
    }
    std::filesystem::rename(temporary, file_, error);
    if (error) {
        notes_.push_back("pipeline cache could not be saved as " + file_.string() + ": " + error.message());
        std::filesystem::remove(temporary, error);
        return;
    }
    stats_.savedBytes = data.size();
    dirty_ = false;
}

}  // namespace raven::vulkan
