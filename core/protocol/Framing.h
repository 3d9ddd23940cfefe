#pragma once
// Framing: one wire::Envelope per binary WebSocket message. Decoding checks, in this order, the size
// bound (before parsing anything), that the bytes parse as an Envelope, and that it carries a
// payload this build knows; it never throws on bad input, because bad input from a peer is expected
// and answered by closing that peer's connection with the reason given here.
#include <QByteArray>
#include <QString>

#include "protocol/raven.pb.h"

namespace raven::protocol {

struct DecodedFrame {
    bool ok = false;
    wire::Envelope envelope;                               // valid when ok
    wire::ErrorCode error = wire::ERROR_CODE_UNSPECIFIED;  // when not ok: MALFORMED or TOO_LARGE
    QString reason;  // when not ok: what was wrong, for the Error message and the close reason
};

DecodedFrame decodeFrame(const QByteArray& bytes);

// Serializes an envelope; throws raven::Error when it has no payload or exceeds kMaxMessageBytes
// (a sender's bug: big contents must be chunked, see Chunking.h).
QByteArray encodeFrame(const wire::Envelope& envelope);

// The payload's field name ("hello", "submit_result"), or "nothing" when none is set.
QString payloadName(const wire::Envelope& envelope);

// An envelope with an Error payload; message and hint are cut to kMaxReasonBytes (BoundedText.h).
wire::Envelope makeError(wire::ErrorCode code, const QString& message, const QString& hint = {},
                         std::uint64_t requestId = 0);

}  // namespace raven::protocol
