// The frame decoder: every binary WebSocket message a peer sends, before login, goes through
// protocol::decodeFrame. Any bytes must give either an envelope or a reason, never a crash; an
// envelope that decodes must encode again and decode to the same payload.
#include "FuzzTarget.h"
#include "QuietProtobuf.h"
#include "protocol/Framing.h"

using namespace raven;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const QByteArray bytes = QByteArray::fromRawData(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const protocol::DecodedFrame frame = protocol::decodeFrame(bytes);
    if (!frame.ok) {
        RAVEN_ASSERT(!frame.reason.isEmpty(), "a refused frame must say why");
        return 0;
    }
    const QString name = protocol::payloadName(frame.envelope);
    RAVEN_ASSERT(name != QStringLiteral("nothing"), "a decoded frame has a payload");
    fuzz::expectErrors([&] {
        const protocol::DecodedFrame again = protocol::decodeFrame(protocol::encodeFrame(frame.envelope));
        RAVEN_ASSERT(again.ok && again.envelope.payload_case() == frame.envelope.payload_case(),
                     "an envelope that decoded must decode again after encoding");
    });
    return 0;
}
