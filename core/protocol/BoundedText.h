#pragma once
// BoundedText: every piece of text a peer sent that goes back out (in a refusal, an Error, a job's
// failure reason, a log line) is cut to a bound first. A reply quoting an 8 MB "software version"
// would otherwise exceed the frame bound itself, and a log would carry whatever a stranger typed.
//
//   refuse(INVALID_ARGUMENT, QStringLiteral("unknown key %1").arg(quotePeer(key)));  // at most 160 bytes
//   error.set_message(boundText(message).toStdString());                             // at most 2 KiB
//
// Cuts fall on UTF-8 character boundaries and say how much was left out, so a person reading the
// reason knows it was shortened.
#include <QString>

#include <string_view>

namespace raven::protocol {

// One peer-supplied string quoted inside a message of ours.
inline constexpr int kMaxQuotedPeerBytes = 160;
// A whole reason, message or hint that leaves this process (Error, HelloReply, JobInfo, JobEvent).
inline constexpr int kMaxReasonBytes = 2048;

// `text` cut to at most `maxBytes` of UTF-8 (plus a short note of what was left out).
QString boundText(const QString& text, int maxBytes = kMaxReasonBytes);
// A peer's bytes (any encoding; invalid UTF-8 is replaced) as a bounded quotable string.
QString quotePeer(std::string_view text, int maxBytes = kMaxQuotedPeerBytes);
QString quotePeer(const QString& text, int maxBytes = kMaxQuotedPeerBytes);

}  // namespace raven::protocol
