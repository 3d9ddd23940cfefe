#include "protocol/PeerSocket.h"

#include "protocol/Framing.h"
#include "protocol/Protocol.h"

namespace raven::protocol {

QWebSocketProtocol::CloseCode closeCodeFor(wire::ErrorCode code) {
    switch (code) {
        case wire::ERROR_CODE_TOO_LARGE:
            return QWebSocketProtocol::CloseCodeTooMuchData;
        case wire::ERROR_CODE_MALFORMED:
            return QWebSocketProtocol::CloseCodeProtocolError;
        case wire::ERROR_CODE_INTERNAL:
            return QWebSocketProtocol::CloseCodeAbnormalDisconnection;
        case wire::ERROR_CODE_UNSPECIFIED:
            return QWebSocketProtocol::CloseCodeNormal;
        default:
            return QWebSocketProtocol::CloseCodePolicyViolated;
    }
}

QString clampCloseReason(const QString& reason) {
    constexpr qsizetype kMaxCloseReasonBytes = 123;
    QString clamped = reason;
    while (clamped.toUtf8().size() > kMaxCloseReasonBytes) clamped.chop(1);
    return clamped;
}

void applyBounds(QWebSocket& socket) {
    socket.setMaxAllowedIncomingMessageSize(static_cast<quint64>(kHardMessageLimitBytes));
    socket.setMaxAllowedIncomingFrameSize(static_cast<quint64>(kHardMessageLimitBytes));
}

void closeWithError(QWebSocket& socket, wire::ErrorCode code, const QString& reason, const QString& hint) {
    if (socket.state() == QAbstractSocket::ConnectedState) {
        socket.sendBinaryMessage(encodeFrame(makeError(code, reason, hint)));
        socket.close(closeCodeFor(code), clampCloseReason(reason));
    } else {
        socket.abort();
    }
}

QString endReason(const QWebSocket& socket, const QString& ourReason, const QString& lastError) {
    if (!ourReason.isEmpty()) return ourReason;
    if (!socket.closeReason().isEmpty()) return socket.closeReason();
    if (!lastError.isEmpty()) return lastError;
    if (socket.error() != QAbstractSocket::UnknownSocketError) return socket.errorString();
    return QStringLiteral("connection closed (code %1)").arg(static_cast<int>(socket.closeCode()));
}

}  // namespace raven::protocol
