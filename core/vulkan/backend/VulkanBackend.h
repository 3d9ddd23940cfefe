#pragma once
// VulkanBackend: the Backend (tensor/Backend.h) that keeps tensors in device memory and runs every
// kernel as a compute shader of compute-shaders/ on one Vulkan device.
//
// Model:
//  - Memory: each Storage is a vulkan::Buffer sub-allocated from the device's MemoryPool (no
//    vkAllocateMemory per tensor). A view (strides, offset) binds its whole storage; the element offset
//    and strides travel in push constants.
//  - Lazy execution: every kernel, upload and fill is only recorded into one Recorder. Work is
//    submitted at readToHost() and synchronize() (the sync points of Backend.h), when the staging ring
//    fills during an upload, or when buffers waiting to be freed exceed maxDeferredBytes. A whole
//    training step (inputs uploaded, forward, backward, optimizer update) is therefore one submission;
//    submissionCount() tells.
//  - Freeing: a Storage destroyed while recorded work may still use its buffer hands the buffer to the
//    backend, which frees it after the next submission has completed (a reused range could otherwise be
//    overwritten before an earlier kernel read it); with nothing recorded it is freed at once.
//  - Reuse: the memory pool gives the same ranges to the same sequence of allocations (Memory.h), and
//    step-dependent scalars travel in small uploaded buffers (stepScalars), so a training step records
//    the same commands every step and the Recorder resubmits its command buffer instead of recording
//    it again (stats().commandBuffersReused; Recorder.h).
//  - Strided views: elementwise, copy and GEMM kernels read any strides (stride-0 broadcast views and
//    transposed views included) after the host merges dimensions that are contiguous together; a view
//    needing more than 6 dimensions is processed in several dispatches. Runs of consecutive elements
//    that start on a multiple of 4 (a contiguous tensor, usually) go four per invocation as vec4, in
//    the elementwise, copy and Adam kernels, with the same bits as one per invocation. Row kernels (softmax,
//    cross-entropy) and reductions over scattered axes read a contiguous copy made on the device.
//  - Errors found by a kernel (cross-entropy targets outside [0, C)) cannot be thrown when the kernel is
//    recorded; they are reported as raven::Error by the next sync point.
//  - Verifiable mode (KernelMode.h): the kernels with a verifiable shader (compute-shaders/verifiable_*,
//    each the twin of its CPU kernel: the matrix product, the elementwise kernels, the reductions,
//    softmax, log-softmax and cross-entropy with their gradients, convolution, max and average pooling
//    and Adam so far) run it,
//    bit-identical to the CPU's verifiable kernels, on a device that passes the verifiable gate; every
//    other kernel refuses the mode with an error naming it (VulkanVerifiable.cpp).
//  - Determinism: no float atomics; every kernel's order of accumulation depends on the logical shape
//    only (never on the device's subgroup or workgroup size; see each shader's header), so the same
//    inputs give bit-identical outputs run after run on one device. Between devices results may differ
//    in the last bits: exp/log come from the driver (compute-shaders/include/raven_math.glsl is the one
//    place to change that) and the compiler may fuse a*b+c into an fma.
//  - Limits: a tensor holds fewer than 2^32 elements in one allocation. One larger than a storage-buffer
//    binding (maxStorageBufferRange: 128 MiB on lavapipe, 2-4 GiB on most GPUs) is bound in windows by
//    the elementwise, copy, reduction, softmax, cross-entropy, optimizer and GEMM kernels, with the same
//    results (BindingWindow.h); the layer kernels bind operands whole and report one that is too large.
//  - GEMM: tile, vec4 loads and split-k chosen per device and shape (GemmTiles.h, docs/vulkan.md).
//  - Profiling: with setProfiling(true), or RAVEN_VULKAN_PROFILE=1 in the environment, every dispatch
//    is timed with a pair of timestamp queries (vulkan::Recorder) and profile() gives, per kind of
//    kernel (matmul, add, gelu_erf, adam_update, ...), the dispatches, GPU time, and GFLOP/s or GB/s
//    from the work each kernel declares; complete after a sync point. With the environment variable
//    the table is printed to stderr when the backend is destroyed.
//  - Layer kernels (conv2d, pooling, norms, embedding, dropout, attention) are the recorder functions of
//    core/vulkan/layers (raven_vulkan_layers); their operands are first made contiguous from the start of
//    their storage (bindings need aligned offsets). Bad embedding indices are reported like bad targets.
//
//   auto backend = raven::makeVulkanBackend("");        // throws vulkan::NoVulkanDevice without one
//   Tensor x = fromVector({2, 3}, {1, 2, 3, 4, 5, 6}, *backend);
//   Tensor y = softmax(matmul(x, x.transpose(0, 1)));   // recorded, not yet run
//   std::vector<float> v = y.toVector();                // one submission, then the copy back
//
// One thread at a time. Every Tensor of a VulkanBackend must be destroyed before the backend.
#include "tensor/Backend.h"
#include "vulkan/Device.h"
#include "vulkan/Instance.h"
#include "vulkan/Recorder.h"
#include "vulkan/VerifiableGate.h"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace raven {

class VulkanBackend;

// A tensor's memory on the device.
class VulkanStorage final : public Storage {
public:
    VulkanStorage(VulkanBackend& backend, int64_t numel, vulkan::Buffer buffer);
    ~VulkanStorage() override;  // hands the buffer to the backend, which frees it once no work uses it

    const vulkan::BufferRange& range() const noexcept { return buffer_.range(); }

private:
    VulkanBackend& owner_;
    vulkan::Buffer buffer_;
};

struct VulkanBackendOptions {
    vulkan::DeviceOptions device;
    // Submit early once buffers awaiting their free hold this many bytes; 0 = a quarter of the
    // device-local memory, at most 1 GiB.
    VkDeviceSize maxDeferredBytes = 0;
};

class VulkanBackend final : public Backend {
public:
    // Opens the device options.device names. Throws vulkan::NoVulkanDevice when there is none.
    explicit VulkanBackend(std::shared_ptr<vulkan::Instance> instance, const VulkanBackendOptions& options = {});
    ~VulkanBackend() override;
    VulkanBackend(const VulkanBackend&) = delete;
    VulkanBackend& operator=(const VulkanBackend&) = delete;

    std::string name() const override;  // "vulkan:<device name>"
    vulkan::Device& device() noexcept { return *device_; }
    vulkan::Instance& instance() noexcept { return *instance_; }
    // Counters of everything recorded so far (dispatches, barriers, submissions).
    const vulkan::Recorder::Stats& stats() const noexcept { return recorder_->stats(); }
    std::size_t submissionCount() const noexcept { return recorder_->stats().submits; }

    std::shared_ptr<Storage> allocate(int64_t numel) override;
    Tensor upload(const Shape& shape, const float* data) override;
    std::vector<float> readToHost(const Tensor& t) override;
    void synchronize() override;
    Tensor fill(const Shape& shape, float value) override;
    Tensor contiguousCopy(const Tensor& src) override;
    void copyInto(const Tensor& dst, const Tensor& src) override;

    Tensor unary(UnaryOp op, const Tensor& x) override;
    Tensor scalar(ScalarOp op, const Tensor& x, float s) override;
    Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) override;
    Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes, bool keepDim) override;
    Tensor matmul(const Tensor& a, const Tensor& b, const Tensor& bias) override;
    Tensor softmax(const Tensor& x) override;
    Tensor logSoftmax(const Tensor& x) override;
    Tensor softmaxBackward(const Tensor& y, const Tensor& gradY) override;
    Tensor logSoftmaxBackward(const Tensor& y, const Tensor& gradY) override;
    Tensor crossEntropy(const Tensor& logits, const Tensor& targets, float labelSmoothing) override;
    Tensor crossEntropyBackward(const Tensor& logits, const Tensor& targets, const Tensor& gradLoss,
                                float labelSmoothing) override;

    // Layer kernels (VulkanLayers.cpp).
    Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dGeometry& geometry) override;
    LayerGrads conv2dBackward(const Tensor& x, const Tensor& weight, const Tensor& gradY, const Shape& inputShape,
                              const Conv2dGeometry& geometry, GradsWanted wanted) override;
    MaxPool2dResult maxPool2d(const Tensor& x, const Pool2dWindow& window) override;
    Tensor maxPool2dBackward(const Tensor& argmax, const Tensor& gradY, const Shape& inputShape,
                             const Pool2dWindow& window) override;
    Tensor avgPool2d(const Tensor& x, const Pool2dWindow& window, bool countIncludePad) override;
    Tensor avgPool2dBackward(const Tensor& gradY, const Shape& inputShape, const Pool2dWindow& window,
                             bool countIncludePad) override;
    NormResult layerNorm(const Tensor& x, int64_t features, const Tensor& weight, const Tensor& bias,
                         float eps) override;
    LayerGrads layerNormBackward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& invStd,
                                 const Tensor& gradY, int64_t features, GradsWanted wanted) override;
    NormResult batchNorm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& runningMean,
                         const Tensor& runningVar, bool training, float momentum, float eps) override;
    LayerGrads batchNormBackward(const Tensor& x, const Tensor& weight, const Tensor& mean, const Tensor& invStd,
                                 const Tensor& gradY, bool training, GradsWanted wanted) override;
    Tensor embedding(const Tensor& indices, const Tensor& weight) override;
    Tensor embeddingBackward(const Tensor& indices, const Tensor& gradY, int64_t vocabulary,
                             int64_t paddingIndex) override;
    Tensor dropout(const Tensor& x, float p, uint64_t seed, uint64_t offset) override;
    AttentionResult attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal, float scale) override;
    AttentionGrads attentionBackward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& probs,
                                     const Tensor& gradOut, bool causal, float scale, GradsWanted wanted) override;

    // Fused optimizer updates (VulkanOptim.cpp): compute-shaders/optim_adam.comp and optim_sgd.comp.
    AdamUpdate adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& expAvg, const Tensor& expAvgSq,
                          const AdamStepScalars& s) override;
    SgdUpdate sgdUpdate(const Tensor& param, const Tensor& grad, const Tensor& momentumBuffer,
                        const SgdStepScalars& s) override;

    // --- profiling (see the model above) ---
    // Returns false when the device has no timestamps on its compute queue (profiling stays off).
    bool setProfiling(bool on) { return recorder_->setProfiling(on); }
    const std::vector<vulkan::Recorder::OpProfile>& profile() const noexcept { return recorder_->profile(); }
    void resetProfile() { recorder_->resetProfile(); }
    // One line per kind: dispatches, total ms, ms per dispatch, GFLOP/s and GB/s, and a total line.
    std::string profileTable() const;

    // --- for the kernel files of this backend ---
    // A new uninitialised contiguous tensor.
    Tensor empty(const Shape& shape);
    // The buffer range of a tensor's whole storage (the tensor must live on this backend).
    const vulkan::BufferRange& rangeOf(const Tensor& t) const;
    vulkan::Recorder& recorder() noexcept { return *recorder_; }
    const vulkan::Pipeline& pipeline(const vulkan::PipelineDesc& desc) { return device_->pipelines().get(desc); }
    // Invocations per workgroup of the one-element-per-invocation kernels on this device.
    std::uint32_t elementwiseWorkgroupSize() const noexcept { return elementwiseGroup_; }
    // Records data[offset .. offset + n) = value (32-bit words).
    void fillWords(const vulkan::BufferRange& range, std::uint64_t offset, std::uint64_t n, std::uint32_t value);
    // A uint buffer that a kernel lowers (atomicMin) to report a bad input; at the next sync point a value
    // other than UINT32_MAX throws raven::Error(describe(value)).
    vulkan::BufferRange statusWord(std::function<std::string(std::uint32_t)> describe);
    // A small device buffer holding `values` for the work recorded until the next sync point (uploaded
    // through staging; the same values asked again give the same buffer). Kernels read scalars that
    // change from step to step (learning rate, bias corrections) from here rather than from push
    // constants, so that a training step records the same commands every step and its command buffer
    // is reused (Recorder.h).
    vulkan::BufferRange stepScalars(std::span<const float> values);

    // --- the verifiable kernel mode (VulkanVerifiable.cpp) ---
    // In the verifiable mode, throws raven::Error naming `op`, a kernel with no verifiable shader yet;
    // in the fast mode does nothing. Every such kernel calls it first.
    void refuseUnverifiable(const char* op);
    // Throws raven::Error unless this device passed vulkan::checkVerifiableGate (run at the first call).
    void requireVerifiableDevice();

private:
    Tensor verifiableMatmul(const Tensor& a, const Tensor& b, const Tensor& bias);
    // verifiable_elementwise.comp: op is a UnaryOp, 100 + a ScalarOp (with s) or 200 + a BinaryOp (y).
    Tensor verifiableElementwise(uint32_t op, float s, const Tensor& x, const Tensor& y);
    // verifiable_reduce.comp (VulkanVerifiableRows.cpp): reduce() in the verifiable mode, into outShape.
    Tensor verifiableReduce(ReduceOp op, const Tensor& x, const std::vector<int>& axes, const Shape& outShape);
    // verifiable_rows.comp: mode 0 softmax(a), 1 logSoftmax(a), 2 softmaxBackward(a, g),
    // 3 logSoftmaxBackward(a, g), 4 crossEntropy(a, targets), 5 crossEntropyBackward(a, targets, g).
    Tensor verifiableRows(uint32_t mode, const Tensor& a, const Tensor& g, const Tensor& targets, float labelSmoothing);

    friend class VulkanStorage;
    void retire(vulkan::Buffer buffer) noexcept;
    // Submits everything recorded, waits, frees retired buffers, then reports kernel errors.
    void flush();

    struct StatusCheck {
        vulkan::Buffer word;
        std::uint32_t value = 0;
        std::function<std::string(std::uint32_t)> describe;
    };

    std::shared_ptr<vulkan::Instance> instance_;
    std::unique_ptr<vulkan::Device> device_;
    std::unique_ptr<vulkan::Recorder> recorder_;
    std::vector<vulkan::Buffer> retired_;
    VkDeviceSize retiredBytes_ = 0;
    VkDeviceSize maxDeferredBytes_ = 0;
    std::vector<StatusCheck> checks_;
    struct ScalarBlock {
        vulkan::Buffer buffer;
        std::vector<std::byte> bytes;
    };
    std::vector<ScalarBlock> scalars_;  // until the next submission has completed
    std::uint32_t elementwiseGroup_ = 64;
    std::int64_t liveStorages_ = 0;
    bool printProfileAtExit_ = false;
    std::optional<vulkan::VerifiableGate> gate_;  // run once, at the first verifiable kernel
};

// A Vulkan backend on the device `selector` names (index or name substring; "" = the best device, see
// vulkan::pick). Throws vulkan::NoVulkanDevice when the machine has no usable Vulkan device (the
// caller falls back to the CPU backend) and raven::Error when the selector matches none.
std::unique_ptr<Backend> makeVulkanBackend(const std::string& selector);

}  // namespace raven
