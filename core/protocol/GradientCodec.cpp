#include "protocol/GradientCodec.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "base/Error.h"
#include "data/Sha256.h"
#include "tensor/BlockInt8.h"
#include "tensor/DType.h"

namespace raven::protocol {
namespace {

DType dtypeOf(wire::GradientEncoding encoding) {
    switch (encoding) {
        case wire::GRADIENT_ENCODING_FP32:
            return DType::F32;
        case wire::GRADIENT_ENCODING_FP16:
            return DType::F16;
        case wire::GRADIENT_ENCODING_BF16:
            return DType::BF16;
        default:
            fail("gradient encoding " + std::to_string(static_cast<int>(encoding)) +
                     " is not fp32, fp16, bf16 or int8 blocks",
                 "set GradientPayload.encoding; this peer may be older than the sender");
    }
}

QByteArray bytesOf(const std::vector<std::byte>& bytes) {
    return QByteArray(reinterpret_cast<const char*>(bytes.data()), static_cast<qsizetype>(bytes.size()));
}

}  // namespace

std::size_t gradientElementBytes(wire::GradientEncoding encoding) { return dtypeSize(dtypeOf(encoding)); }

std::uint64_t encodedGradientBytes(wire::GradientEncoding encoding, std::uint64_t elementCount) {
    if (encoding == wire::GRADIENT_ENCODING_INT8_BLOCK) return blockInt8Bytes(static_cast<std::size_t>(elementCount));
    return elementCount * gradientElementBytes(encoding);
}

namespace {

// The first 8 bytes (little-endian) of the SHA-256 of `text`: a rounding stream's key.
std::uint64_t roundingKeyOf(const std::string& text) {
    const QByteArray digest = data::sha256(QByteArray::fromStdString(text));
    std::uint64_t key = 0;
    for (int i = 0; i < 8; ++i) key |= std::uint64_t{static_cast<unsigned char>(digest[i])} << (8 * i);
    return key;
}

}  // namespace

std::uint64_t updateRoundingKey(const std::string& modelSpecSha256, std::uint64_t modelVersion,
                                const std::vector<std::string>& shardHashes) {
    std::string text = "raven int8 update rounding v1\n" + modelSpecSha256 + "\n" + std::to_string(modelVersion) + "\n";
    for (const std::string& shard : shardHashes) text += shard + "\n";
    return roundingKeyOf(text);
}

std::uint64_t weightsDeltaRoundingKey(const std::string& modelSpecSha256, std::uint64_t modelVersion) {
    return roundingKeyOf("raven int8 weights down v1\n" + modelSpecSha256 + "\n" + std::to_string(modelVersion) + "\n");
}

std::uint64_t unitRoundingKey(const wire::WorkUnit& unit) {
    return updateRoundingKey(unit.model_spec_sha256(), unit.model_version(),
                             std::vector<std::string>(unit.shard_hashes().begin(), unit.shard_hashes().end()));
}

QByteArray encodeGradientValues(const std::vector<float>& values, wire::GradientEncoding encoding,
                                std::uint64_t roundingKey) {
    if (encoding == wire::GRADIENT_ENCODING_INT8_BLOCK) return bytesOf(encodeBlockInt8(values, roundingKey));
    return bytesOf(encodeValues(values, dtypeOf(encoding)));
}

std::vector<float> roundTripGradient(std::vector<float> values, wire::GradientEncoding encoding,
                                     std::uint64_t roundingKey) {
    if (encoding == wire::GRADIENT_ENCODING_FP32) return values;
    return decodeGradientValues(encodeGradientValues(values, encoding, roundingKey), encoding, values.size());
}

namespace {

// raven::Error unless `bytes` hold exactly `elementCount` values of `encoding`'s element size.
void checkGradientBytes(const QByteArray& bytes, wire::GradientEncoding encoding, std::uint64_t elementCount) {
    const std::size_t elementBytes = gradientElementBytes(encoding);
    RAVEN_CHECK(static_cast<std::uint64_t>(bytes.size()) == elementCount * elementBytes,
                "gradient of " + std::to_string(bytes.size()) + " bytes does not hold " + std::to_string(elementCount) +
                    " elements of " + std::to_string(elementBytes) + " bytes",
                "the sender's element count or encoding is wrong");
}

}  // namespace

std::vector<float> decodeGradientValues(const QByteArray& bytes, wire::GradientEncoding encoding,
                                        std::uint64_t elementCount) {
    if (encoding == wire::GRADIENT_ENCODING_INT8_BLOCK)
        return decodeBlockInt8(std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.constData()),
                                                          static_cast<std::size_t>(bytes.size())),
                               static_cast<std::size_t>(elementCount));
    checkGradientBytes(bytes, encoding, elementCount);
    if (encoding == wire::GRADIENT_ENCODING_FP32) {
        // Copied straight in (little-endian hosts), not zero-filled first as decodeValues does: on the
        // coordinator's ingest path that fill (and its page faults) cost as much as the copy.
        std::vector<float> values;
        values.reserve(static_cast<std::size_t>(elementCount));
        const char* data = bytes.constData();
        if (reinterpret_cast<std::uintptr_t>(data) % alignof(float) == 0) {
            // std::copy of a trivially copyable type is a memmove: no float is read through the cast.
            const auto* first = reinterpret_cast<const float*>(data);
            values.assign(first, first + elementCount);
        } else {
            values.resize(static_cast<std::size_t>(elementCount));
            std::memcpy(values.data(), data, static_cast<std::size_t>(bytes.size()));
        }
        return values;
    }
    return decodeValues(reinterpret_cast<const std::byte*>(bytes.constData()), static_cast<std::size_t>(bytes.size()),
                        dtypeOf(encoding));
}

void decodeGradientValuesInto(const QByteArray& bytes, wire::GradientEncoding encoding, std::span<float> out) {
    const auto* data = reinterpret_cast<const std::byte*>(bytes.constData());
    const auto size = static_cast<std::size_t>(bytes.size());
    if (encoding == wire::GRADIENT_ENCODING_INT8_BLOCK) return decodeBlockInt8Into(std::span(data, size), out);
    checkGradientBytes(bytes, encoding, out.size());
    decodeValuesInto(data, size, dtypeOf(encoding), out);
}

std::vector<wire::SubmitResult> makeSubmitResults(const WorkResult& result, wire::GradientEncoding encoding, bool zstd,
                                                  std::uint64_t roundingKey, bool hashed) {
    const QByteArray encoded = encodeGradientValues(result.gradient, encoding, roundingKey);
    std::vector<wire::SubmitResult> parts;
    for (wire::ContentChunk& chunk : splitContent(encoded, zstd, kChunkBytes, hashed)) {
        wire::SubmitResult& part = parts.emplace_back();
        part.set_work_unit_id(result.workUnitId);
        part.set_sample_count(result.sampleCount);
        part.set_loss(result.loss);
        part.set_correct(result.correct);
        part.set_compute_ms(result.computeMs);
        part.set_kernel_mode(result.kernelMode);
        wire::GradientPayload* gradient = part.mutable_gradient();
        gradient->set_encoding(encoding);
        gradient->set_element_count(result.gradient.size());
        *gradient->mutable_content() = std::move(chunk);
    }
    return parts;
}

ResultAssembler::ResultAssembler(std::uint64_t expectedElements, ContentAssembler::Unhashed unhashed)
    // The bound on the bytes a result may announce: the largest encoding of the model's values (fp32,
    // but int8 blocks for a model of a few values).
    : expectedElements_(expectedElements),
      content_(std::max(expectedElements * sizeof(float),
                        encodedGradientBytes(wire::GRADIENT_ENCODING_INT8_BLOCK, expectedElements)),
               unhashed) {}

void ResultAssembler::add(const wire::SubmitResult& part) {
    if (addPart(part)) finish();
}

bool ResultAssembler::addPart(const wire::SubmitResult& part) {
    const wire::GradientPayload& gradient = part.gradient();
    const std::string where = "result for work unit " + part.work_unit_id();
    if (!started_) {
        RAVEN_CHECK(gradient.element_count() == expectedElements_,
                    where + " has " + std::to_string(gradient.element_count()) +
                        " gradient values where the model has " + std::to_string(expectedElements_) + " parameters",
                    "the worker computed with another model spec");
        encodedGradientBytes(gradient.encoding(), 0);  // rejects an unknown encoding before any bytes are kept
        started_ = true;
        encoding_ = gradient.encoding();
        result_.workUnitId = part.work_unit_id();
        result_.sampleCount = part.sample_count();
        result_.loss = part.loss();
        result_.correct = part.correct();
        result_.computeMs = part.compute_ms();
        result_.kernelMode = part.kernel_mode();
    } else {
        RAVEN_CHECK(part.work_unit_id() == result_.workUnitId && gradient.encoding() == encoding_ &&
                        gradient.element_count() == expectedElements_,
                    where + ": a part of another result arrived in the middle of " + result_.workUnitId,
                    "send one result's parts in order before the next");
    }
    return content_.addBytes(gradient.content());
}

void ResultAssembler::finish(std::vector<float> buffer) {
    content_.finish();
    if (buffer.size() == expectedElements_) {
        decodeGradientValuesInto(content_.content(), encoding_, buffer);
        result_.gradient = std::move(buffer);
    } else {
        result_.gradient = decodeGradientValues(content_.content(), encoding_, expectedElements_);
    }
    complete_ = true;
}

}  // namespace raven::protocol
