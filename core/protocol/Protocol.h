#pragma once
// Raven's wire protocol, the model in one page (docs/protocol.md has the rest):
//
//  - Peers: a coordinator (server) and its clients, contributors' workers and requesters' consoles.
//    They talk over TLS WebSockets (wss://). Each binary WebSocket message is one wire::Envelope
//    (core/protocol/raven.proto): a request id for correlation and exactly one payload.
//  - Handshake: the client's first message is Hello (its role and the range of protocol versions it
//    speaks); the server answers HelloReply, accepting with the highest version both speak or refusing
//    with a reason that names both sides' versions, and then closes.
//  - Bounds: no message exceeds kMaxMessageBytes; larger contents travel as ContentChunks of at most
//    kChunkBytes. A malformed, oversized or out-of-order message closes that one connection, with an
//    Error message and a WebSocket close reason; no other connection notices.
//  - Trust: the coordinator's self-signed certificate is pinned by clients on first contact
//    (KnownHosts.h); a changed one is refused.
//
// This header holds the numbers both sides must agree on and the version negotiation.
#include <cstdint>
#include <optional>
#include <string>

namespace raven::protocol {

// The newest protocol version this build speaks. Bump it for every incompatible change to
// raven.proto or to the rules of docs/protocol.md; adding fields or messages needs no bump.
inline constexpr std::uint32_t kProtocolVersion = 1;
// The oldest version this build still accepts from a peer.
inline constexpr std::uint32_t kMinProtocolVersion = 1;

// Upper bound of one serialized Envelope, checked before it is parsed: a bigger message closes the
// connection with Error{ERROR_CODE_TOO_LARGE} and a close reason naming both sizes.
inline constexpr std::int64_t kMaxMessageBytes = 8 * 1024 * 1024;
// Qt WebSockets stops receiving a message at this size, while its frames arrive (close code 1009,
// "Received message is too big."), so a peer cannot make a connection buffer more than this.
inline constexpr std::int64_t kHardMessageLimitBytes = 2 * kMaxMessageBytes;
// Size of a ContentChunk's data: well below the bound, so chunks interleave with heartbeats.
inline constexpr std::int64_t kChunkBytes = 1024 * 1024;
// How long a server waits for a new connection's Hello before closing it.
inline constexpr int kHelloTimeoutMs = 10000;

// The versions one side speaks, inclusive.
struct VersionRange {
    std::uint32_t min = kMinProtocolVersion;
    std::uint32_t max = kProtocolVersion;
};

// The highest version both ranges contain, or nothing when they do not overlap.
std::optional<std::uint32_t> negotiateVersion(VersionRange ours, VersionRange theirs);

// "protocol version 3 (accepts 2..3)": how refusals name a side's versions.
std::string describeVersions(VersionRange range);

}  // namespace raven::protocol
