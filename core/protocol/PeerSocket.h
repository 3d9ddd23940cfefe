#pragma once
// What ProtocolServer and ProtocolClient do alike to one QWebSocket: read binary messages as
// envelopes, enforce the size bound, and close a connection that breaks the rules with an Error
// message and a close reason. (Internal to core/protocol; the public classes are the server and
// the client.)
#include <QString>
#include <QWebSocket>
#include <QWebSocketProtocol>

#include "protocol/raven.pb.h"

namespace raven::protocol {

// The WebSocket close code that goes with a protocol error.
QWebSocketProtocol::CloseCode closeCodeFor(wire::ErrorCode code);

// A close reason fits in 123 bytes of UTF-8 (RFC 6455, 5.5); the full text travels in the Error.
QString clampCloseReason(const QString& reason);

// Applies Qt's hard limit (kHardMessageLimitBytes) to a socket before it receives anything.
void applyBounds(QWebSocket& socket);

// Sends Error{code, reason, hint} and closes with the matching close code and the (clamped) reason.
// Bytes already queued go first, the close frame last, so the peer reads the Error before the close.
void closeWithError(QWebSocket& socket, wire::ErrorCode code, const QString& reason, const QString& hint = {});

// Why a socket ended, for the disconnected signals: our own reason when we closed it, else the
// peer's close reason, else the socket error (`lastError`: the text of the last error() signal).
QString endReason(const QWebSocket& socket, const QString& ourReason, const QString& lastError = {});

}  // namespace raven::protocol
