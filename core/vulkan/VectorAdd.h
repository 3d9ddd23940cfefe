#pragma once
// c = a + b on a Vulkan device: the smoke op that proves the build, the embedded SPIR-V, the device,
// memory, pipelines, recording and the validation layer work end to end (compute-shaders/vector_add.comp).
//
// The workgroup size is a specialization constant chosen from the device's limits (never assumed);
// a length beyond maxComputeWorkGroupCount[0] * workgroup size is split into several dispatches by the
// Recorder, and one beyond maxStorageBufferRange into several bindings here.
#include "vulkan/Memory.h"

#include <cstdint>
#include <span>
#include <vector>

namespace raven::vulkan {

class Device;
class Recorder;

// The workgroup size vector_add uses on this device.
std::uint32_t vectorAddWorkgroupSize(const Device& device);

// Records c[i] = a[i] + b[i] for i < n; each range holds at least n floats.
void vectorAdd(Device& device, Recorder& recorder, const BufferRange& a, const BufferRange& b, const BufferRange& c,
               std::uint64_t n);

// Uploads a and b (same length), adds them on the device, returns the sum. One submission.
std::vector<float> vectorAdd(Device& device, std::span<const float> a, std::span<const float> b);

}  // namespace raven::vulkan
