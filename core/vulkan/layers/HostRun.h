#pragma once
// Running the layer ops on host vectors: upload, record, submit once, download. For tests, tools and
// one-off use; the Vulkan backend records the BufferRange functions into its own Recorder instead.
//
//   HostRun run(device);
//   std::vector<float> y;
//   conv2dForward(device, run.recorder(), shape, run.input(x), run.input(w), run.input(b), run.output(n, y));
//   run.run();                    // y holds the result now
//
// The layers::host functions below are that, one per op: each returns the op's outputs as vectors.
// An empty input span means "absent" (no bias, no weight); an output not wanted comes back empty.
#include "cpu/kernels/Attention.h"
#include "cpu/kernels/BatchNorm.h"
#include "cpu/kernels/Conv2d.h"
#include "cpu/kernels/Dropout.h"
#include "cpu/kernels/Embedding.h"
#include "cpu/kernels/LayerNorm.h"
#include "cpu/kernels/Pool2d.h"
#include "vulkan/Memory.h"
#include "vulkan/Recorder.h"

#include <array>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace raven::vulkan {
class Device;
}

namespace raven::vulkan::layers {

class HostRun {
public:
    explicit HostRun(Device& device);
    HostRun(const HostRun&) = delete;
    HostRun& operator=(const HostRun&) = delete;

    // A device copy of data; an empty span gives an absent (default) range.
    BufferRange input(std::span<const float> data);
    // A device buffer of `count` floats whose content lands in `out` (resized) after run(); count 0 or
    // !wanted gives an absent range and leaves `out` empty.
    BufferRange output(std::size_t count, std::vector<float>& out, bool wanted = true);
    // A buffer holding `data` now whose content after the op lands back in `data` (in-place operands).
    BufferRange inout(std::vector<float>& data);
    // A device buffer of `count` floats that no one reads back.
    BufferRange scratch(std::size_t count);

    Recorder& recorder() noexcept { return recorder_; }
    // Records the downloads, submits everything and waits. Call once.
    void run();

private:
    Device& device_;
    std::vector<Buffer> buffers_;
    std::vector<std::pair<BufferRange, std::vector<float>*>> outputs_;
    Recorder recorder_;
};

// Which gradients a backward computes, in the order of its result's fields (as the Backend's GradsWanted).
using Wanted = std::array<bool, 3>;

struct LayerGradients {
    std::vector<float> input, weight, bias;
};
struct NormOutput {
    std::vector<float> y, mean, invstd;
};
struct MaxPoolOutput {
    std::vector<float> y, argmax;  // argmax: ih * W + iw as floats
};
struct AttentionOutput {
    std::vector<float> out, probs;
};
struct AttentionGradients {
    std::vector<float> query, key, value;
};

namespace host {

using F = std::span<const float>;

std::vector<float> conv2dForward(Device& device, const cpu::kernels::Conv2dShape& shape, F x, F weight, F bias);
LayerGradients conv2dBackward(Device& device, const cpu::kernels::Conv2dShape& shape, F x, F weight, F dy,
                              Wanted wanted = {true, true, true});

MaxPoolOutput maxPool2dForward(Device& device, const cpu::kernels::Pool2dShape& shape, F x);
std::vector<float> maxPool2dBackward(Device& device, const cpu::kernels::Pool2dShape& shape, F argmax, F dy);
std::vector<float> avgPool2dForward(Device& device, const cpu::kernels::Pool2dShape& shape, F x,
                                    bool countIncludePad = true);
std::vector<float> avgPool2dBackward(Device& device, const cpu::kernels::Pool2dShape& shape, F dy,
                                     bool countIncludePad = true);

NormOutput layerNormForward(Device& device, const cpu::kernels::LayerNormShape& shape, F x, F weight, F bias);
LayerGradients layerNormBackward(Device& device, const cpu::kernels::LayerNormShape& shape, F x, F weight, F mean,
                                 F rstd, F dy, Wanted wanted = {true, true, true});

// runningMean and runningVar are updated in place in training (left alone when empty).
NormOutput batchNormForward(Device& device, const cpu::kernels::BatchNormShape& shape, bool training, F x, F weight,
                            F bias, std::vector<float>& runningMean, std::vector<float>& runningVar);
LayerGradients batchNormBackward(Device& device, const cpu::kernels::BatchNormShape& shape, bool training, F x,
                                 F weight, F savedMean, F savedInvstd, F dy, Wanted wanted = {true, true, true});

// indices as floats holding integers; throws raven::Error for one that is not an integer in
// [0, vocabulary), as the CPU kernel does.
std::vector<float> embeddingForward(Device& device, const cpu::kernels::EmbeddingShape& shape, F indices, F weight);
std::vector<float> embeddingBackward(Device& device, const cpu::kernels::EmbeddingShape& shape, F indices, F dy);

std::vector<float> dropoutForward(Device& device, const cpu::kernels::DropoutShape& shape, F x);
std::vector<float> dropoutBackward(Device& device, const cpu::kernels::DropoutShape& shape, F dy);

AttentionOutput attentionForward(Device& device, const cpu::kernels::AttentionShape& shape, F q, F k, F v);
AttentionGradients attentionBackward(Device& device, const cpu::kernels::AttentionShape& shape, F q, F k, F v, F probs,
                                     F dout, Wanted wanted = {true, true, true});

}  // namespace host
}  // namespace raven::vulkan::layers
