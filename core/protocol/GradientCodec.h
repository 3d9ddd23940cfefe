#pragma once
// Gradients on the wire. A worker's gradient is a flat float32 vector (all parameters in spec
// order); it travels as fp32 (exact), fp16 or bf16 (half the bytes; core/tensor/DType.h rounds to
// nearest even), optionally zstd-compressed, cut into chunks like any content (Chunking.h).
//
// Bytes per element on the wire before zstd: fp32 4, fp16 2, bf16 2. fp16 keeps 11 significant
// bits but overflows above 65504 and flushes below ~6e-8 to zero; bf16 keeps fp32's range with 8
// significant bits (relative error at most 2^-9 per element).
#include <QByteArray>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "protocol/Chunking.h"
#include "protocol/raven.pb.h"

namespace raven::protocol {

// Bytes per element of an encoding; throws raven::Error for GRADIENT_ENCODING_UNSPECIFIED.
std::size_t gradientElementBytes(wire::GradientEncoding encoding);

// Little-endian bytes of `values` in `encoding` (not compressed).
QByteArray encodeGradientValues(const std::vector<float>& values, wire::GradientEncoding encoding);
// The inverse; throws raven::Error when the size does not match `elementCount`.
std::vector<float> decodeGradientValues(const QByteArray& bytes, wire::GradientEncoding encoding,
                                        std::uint64_t elementCount);

// The SubmitResult messages that carry one work unit's result: one per chunk of the encoded
// (and, when `zstd`, compressed) gradient, each repeating the unit id, sample count and loss.
struct WorkResult {
    std::string workUnitId;
    std::vector<float> gradient;
    std::uint64_t sampleCount = 0;
    double loss = 0.0;
    std::uint64_t correct = 0;
    std::uint64_t computeMs = 0;
    wire::KernelMode kernelMode = wire::KERNEL_MODE_FAST;  // the kernels it was computed with
};
std::vector<wire::SubmitResult> makeSubmitResults(const WorkResult& result, wire::GradientEncoding encoding, bool zstd);

// Collects the SubmitResult messages of one work unit on the coordinator's side.
class ResultAssembler {
public:
    // `expectedElements`: the model's parameter count; anything else is rejected.
    explicit ResultAssembler(std::uint64_t expectedElements);
    // Throws raven::Error when the part does not fit (other unit, size, out of order, bad hash).
    void add(const wire::SubmitResult& part);
    // add() in two halves (ContentAssembler::addBytes/finish): addPart() is cheap and says when
    // every byte is in; finish() decompresses, hashes once and decodes, possibly on a worker thread.
    bool addPart(const wire::SubmitResult& part);
    void finish();
    // The SHA-256 of the raw gradient bytes, computed once by finish().
    const QString& sha256() const { return content_.sha256(); }
    bool complete() const { return complete_; }
    // Valid once complete(): the decoded float32 gradient and the rest of the result.
    const WorkResult& result() const { return result_; }
    // The same, moved out (the gradient is not copied); result() is empty afterwards.
    WorkResult takeResult() { return std::move(result_); }

private:
    std::uint64_t expectedElements_;
    bool complete_ = false;
    bool started_ = false;
    wire::GradientEncoding encoding_ = wire::GRADIENT_ENCODING_UNSPECIFIED;
    WorkResult result_;
    ContentAssembler content_;
};

}  // namespace raven::protocol
