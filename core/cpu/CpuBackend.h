#pragma once
// CpuBackend: the Backend that runs kernels on the host's cores, eagerly (readToHost is a plain copy).
//
// - Memory: each Storage is one 64-byte aligned float array. Freed arrays are kept for reuse by exact
//   size (up to 1 GiB in all; releaseCachedMemory() returns them), because a training step allocates
//   the same sizes every step and fresh pages fault in slowly.
// - Threads: a ThreadPool of its own; the count defaults to std::thread::hardware_concurrency(), or
//   to the environment variable RAVEN_CPU_THREADS when set, and can be changed with setThreadCount.
// - GEMM: kernels::sgemm (OpenBLAS, whose kernels are chosen for the CPU at run time; Eigen without
//   it), one thread per call, split by ThreadPool over batch and row blocks. Each output element is
//   computed by one call whose blocking depends only on the shapes of that block, and the row blocks
//   are fixed multiples of 64 rows, so results do not depend on the thread count.
// - Elementwise kernels: one tight loop per op (the op is chosen once per call, not per element),
//   fast paths for contiguous and broadcast (stride-0) inner dimensions.
// - Reductions: a fixed order that depends only on the logical shape (see CpuReduce.cpp): the reduced
//   elements of an output, in row-major order, are summed in blocks of 65536, each block over 8
//   interleaved lanes combined pairwise; blocks are added in order. Threads split outputs or blocks,
//   never one block.
// - Layer kernels (conv2d, pooling, norms, embedding, dropout, attention): raven::cpu::kernels
//   (cpu/kernels/Kernels.h), which fix their accumulation order by the logical shape, given this pool as
//   their ParallelFor. Integer data (indices, argmax) is converted from and to floats here.
//
// - Kernel modes (tensor/KernelMode.h): Fast as above. Verifiable: the transcendental functions and
//   division of cpu/kernels/VerifiableMath.h (the GPU's verifiable_math.glsl twin) instead of libm's,
//   the fixed-order product of cpu/kernels/VerifiableGemm.h instead of OpenBLAS, the same fixed-order
//   reductions, and no fused multiply-add anywhere (built with -ffp-contract=off): results depend on
//   the logical shapes alone, on any x86-64 CPU at any thread count. Kernels without a verifiable form
//   yet (layer and batch norm, dropout, attention) throw raven::Error in that mode.
//
// Get the shared instance with cpuBackend() (tensor/Tensor.h); cpuBackendInstance() gives the
// concrete type for the CPU-only settings.
#include <memory>

#include "cpu/ThreadPool.h"
#include "cpu/kernels/VerifiableGemm.h"
#include "tensor/Backend.h"

namespace raven {

class CpuStorage final : public Storage {
public:
    CpuStorage(Backend& backend, int64_t numel);
    ~CpuStorage() override;
    float* data() { return data_; }
    const float* data() const { return data_; }

private:
    float* data_ = nullptr;
};

// One Adam/AdamW step's constants (nn/Adam.cpp computes them; see there for the formulas).
struct AdamConstants {
    float beta1 = 0.9f, oneMinusBeta1 = 0.1f;  // 1 - beta computed in double, then rounded
    float beta2 = 0.999f, oneMinusBeta2 = 0.001f;
    float invSqrtCorrection2 = 1.0f;  // 1 / sqrt(1 - beta2^t)
    float eps = 1e-8f;
    float stepSize = 1e-3f;    // lr / (1 - beta1^t)
    float weightDecay = 0.0f;  // Adam: g = grad + weightDecay * p
    float decayFactor = 1.0f;  // AdamW: p = p * decayFactor (1 - lr * weight_decay)
};

struct AdamStepResult {
    Tensor param, expAvg, expAvgSq;  // new tensors: the inputs are not modified
};

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(int threads = 0);  // 0 = default (see above)

    std::string name() const override { return "cpu"; }
    int threadCount() const { return pool_->threadCount(); }
    void setThreadCount(int threads) { pool_->setThreadCount(threads); }
    ThreadPool& pool() { return *pool_; }
    // What computes the matrix products (cpu/kernels/Gemm.h), e.g. "OpenBLAS 0.3.21 (core Haswell), ...".
    static std::string gemmName();

    // Host pointer to a tensor's first element (the tensor must live on this backend).
    static float* hostData(const Tensor& t);

    std::shared_ptr<Storage> allocate(int64_t numel) override;
    Tensor upload(const Shape& shape, const float* data) override;
    std::vector<float> readToHost(const Tensor& t) override;
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

    // Layer kernels (CpuLayers.cpp): raven::cpu::kernels on contiguous copies, split by the pool.
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

    // One fused Adam step over one parameter: the new parameter and moments in a single pass, with
    // the same float operations in the same order as the step composed of elementwise kernels
    // (mulScalar, add, mul, sqrt, addScalar, div, sub), so the results are bit-identical to it.
    // expAvg and expAvgSq undefined mean zero moments (the first step). All tensors of one shape.
    AdamStepResult adamStep(const Tensor& param, const Tensor& grad, const Tensor& expAvg, const Tensor& expAvgSq,
                            const AdamConstants& c);

    // Backend::adamUpdate as the fused pass above (the same bits as the composed default).
    AdamUpdate adamUpdate(const Tensor& param, const Tensor& grad, const Tensor& expAvg, const Tensor& expAvgSq,
                          const AdamStepScalars& s) override;

    // Returns the arrays kept for reuse to the system (what no tensor holds).
    static void releaseCachedMemory();

    // A new uninitialised contiguous tensor on this backend.
    Tensor empty(const Shape& shape);

private:
    // Throws raven::Error when the kernel mode is Verifiable: `op` has no verifiable kernel yet.
    void requireFastMode(const char* op) const;
    // The matrix product of the current kernel mode (cpu/kernels/VerifiableGemm.h).
    cpu::kernels::SgemmFn gemmForMode() const;

    std::unique_ptr<ThreadPool> pool_;
};

// The shared CPU backend, as its concrete type.
CpuBackend& cpuBackendInstance();

}  // namespace raven
