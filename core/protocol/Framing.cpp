#include "protocol/Framing.h"

#include "base/Error.h"
#include "protocol/BoundedText.h"
#include "protocol/Protocol.h"

namespace raven::protocol {

DecodedFrame decodeFrame(const QByteArray& bytes) {
    DecodedFrame frame;
    if (bytes.size() > kMaxMessageBytes) {
        frame.error = wire::ERROR_CODE_TOO_LARGE;
        frame.reason =
            QStringLiteral("message of %1 bytes exceeds the bound of %2 bytes").arg(bytes.size()).arg(kMaxMessageBytes);
        return frame;
    }
    if (!frame.envelope.ParseFromArray(bytes.constData(), static_cast<int>(bytes.size()))) {
        frame.error = wire::ERROR_CODE_MALFORMED;
        frame.reason = QStringLiteral("message of %1 bytes is not a Raven envelope").arg(bytes.size());
        return frame;
    }
    if (frame.envelope.payload_case() == wire::Envelope::PAYLOAD_NOT_SET) {
        // Garbage often parses as unknown fields; an envelope without a payload we know is just as bad.
        frame.error = wire::ERROR_CODE_MALFORMED;
        frame.reason = QStringLiteral("message of %1 bytes carries no payload this peer knows").arg(bytes.size());
        return frame;
    }
    frame.ok = true;
    return frame;
}

QByteArray encodeFrame(const wire::Envelope& envelope) {
    RAVEN_CHECK(envelope.payload_case() != wire::Envelope::PAYLOAD_NOT_SET, "cannot send an envelope without payload",
                "set one of the payload fields of wire::Envelope");
    const size_t size = envelope.ByteSizeLong();
    RAVEN_CHECK(static_cast<std::int64_t>(size) <= kMaxMessageBytes,
                "a " + payloadName(envelope).toStdString() + " message of " + std::to_string(size) +
                    " bytes exceeds the protocol bound of " + std::to_string(kMaxMessageBytes) + " bytes",
                "send large contents as ContentChunks of at most kChunkBytes (protocol/Chunking.h)");
    QByteArray bytes(static_cast<qsizetype>(size), Qt::Uninitialized);
    const bool written = envelope.SerializeToArray(bytes.data(), static_cast<int>(size));
    RAVEN_ASSERT(written, "protobuf could not serialize an envelope it measured");
    return bytes;
}

QString payloadName(const wire::Envelope& envelope) {
    if (envelope.payload_case() == wire::Envelope::PAYLOAD_NOT_SET) return QStringLiteral("nothing");
    const auto* field = wire::Envelope::descriptor()->FindFieldByNumber(static_cast<int>(envelope.payload_case()));
    return field ? QString::fromStdString(field->name()) : QStringLiteral("unknown");
}

wire::Envelope makeError(wire::ErrorCode code, const QString& message, const QString& hint, std::uint64_t requestId) {
    wire::Envelope envelope;
    envelope.set_request_id(requestId);
    auto* error = envelope.mutable_error();
    error->set_code(code);
    error->set_message(boundText(message).toStdString());
    error->set_hint(boundText(hint).toStdString());
    return envelope;
}

}  // namespace raven::protocol
