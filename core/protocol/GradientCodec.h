#pragma once
// Gradients on the wire. A worker's gradient is a flat float32 vector (all parameters in spec
// order); it travels as fp32 (exact), fp16 or bf16 (half the bytes; core/tensor/DType.h rounds to
// nearest even), optionally zstd-compressed, cut into chunks like any content (Chunking.h).
//
// Bytes per element on the wire before zstd: fp32 4, fp16 2, bf16 2, int8 blocks 1 + 4/256. fp16
// keeps 11 significant bits but overflows above 65504 and flushes below ~6e-8 to zero; bf16 keeps
// fp32's range with 8 significant bits (relative error at most 2^-9 per element). int8 blocks
// (tensor/BlockInt8.h) round stochastically to 255 levels of each block's absmax: an unbiased error
// of at most absmax/127 per element, drawn from a stream keyed by the unit (updateRoundingKey), so
// the same fp32 update always gives the same bytes and a verifier's replay reproduces them.
#include <QByteArray>
#include <cstdint>
#include <string>
#include <utility>
#include <span>
#include <vector>

#include "protocol/Chunking.h"
#include "protocol/raven.pb.h"

namespace raven::protocol {

// Bytes per element of a fixed-width encoding (fp32, fp16, bf16); throws raven::Error for the others.
std::size_t gradientElementBytes(wire::GradientEncoding encoding);
// Bytes of `elementCount` values in `encoding`; throws raven::Error for an unknown encoding.
std::uint64_t encodedGradientBytes(wire::GradientEncoding encoding, std::uint64_t elementCount);

// The stream of the int8 encoding's stochastic rounding for one work unit: the first 8 bytes of a
// SHA-256 over the unit's place in its job, the model spec, the model version and the shards in
// order. A function of the plan, not of the coordinator's row ids, so that a unit re-issued, a job
// resumed after a crash, the same job submitted again and a verifier's replay all round the same way,
// whatever the number of workers; two units of one job never share a stream (a version's units
// split its shards).
std::uint64_t updateRoundingKey(const std::string& modelSpecSha256, std::uint64_t modelVersion,
                                const std::vector<std::string>& shardHashes);
std::uint64_t unitRoundingKey(const wire::WorkUnit& unit);
// The stream of a job's weights delta to `modelVersion` (checkpoint/WeightsDelta.h): keyed by the
// model spec and the version alone, so a restarted coordinator, the same job run again and a
// simulation of it all publish the same weights; a stream of its own, never a unit's.
std::uint64_t weightsDeltaRoundingKey(const std::string& modelSpecSha256, std::uint64_t modelVersion);

// Little-endian bytes of `values` in `encoding` (not compressed); `roundingKey` is used by int8
// blocks only (unitRoundingKey). raven::Error when int8 meets a value that is not finite.
QByteArray encodeGradientValues(const std::vector<float>& values, wire::GradientEncoding encoding,
                                std::uint64_t roundingKey = 0);
// The inverse; throws raven::Error when the size does not match `elementCount` or the payload is not
// a valid one of its encoding (an int8 block's scale negative or not finite).
std::vector<float> decodeGradientValues(const QByteArray& bytes, wire::GradientEncoding encoding,
                                        std::uint64_t elementCount);
// The same into `out` (out.size() elements, each overwritten): for a receiver that reuses the memory
// of a gradient it is done with instead of zero-filling fresh pages (the coordinator's GradientBuffers).
void decodeGradientValuesInto(const QByteArray& bytes, wire::GradientEncoding encoding, std::span<float> out);
// What the receiver of `values` sent as `encoding` decodes: decode(encode(values)). The values
// themselves for fp32.
std::vector<float> roundTripGradient(std::vector<float> values, wire::GradientEncoding encoding,
                                     std::uint64_t roundingKey);

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
// `roundingKey`: the unit's (unitRoundingKey), for int8 blocks.
// `hashed` false: without content_sha256, for a coordinator that takes results so
// (RegisterReply.takes_unhashed_results).
std::vector<wire::SubmitResult> makeSubmitResults(const WorkResult& result, wire::GradientEncoding encoding, bool zstd,
                                                  std::uint64_t roundingKey = 0, bool hashed = true);

// Collects the SubmitResult messages of one work unit on the coordinator's side.
class ResultAssembler {
public:
    // `expectedElements`: the model's parameter count; anything else is rejected.
    // `unhashed`: whether a result without content_sha256 is taken (ContentAssembler::Unhashed).
    explicit ResultAssembler(std::uint64_t expectedElements,
                             ContentAssembler::Unhashed unhashed = ContentAssembler::Unhashed::Refused);
    // Throws raven::Error when the part does not fit (other unit, size, out of order, bad hash).
    void add(const wire::SubmitResult& part);
    // add() in two halves (ContentAssembler::addBytes/finish): addPart() is cheap and says when
    // every byte is in; finish() decompresses, hashes once and decodes, possibly on a worker thread.
    bool addPart(const wire::SubmitResult& part);
    // `buffer`, when it holds expectedElements() values, receives the decoded gradient (its old
    // values are all overwritten); otherwise fresh memory does.
    void finish(std::vector<float> buffer = {});
    std::uint64_t expectedElements() const { return expectedElements_; }
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
