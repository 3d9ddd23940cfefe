#pragma once
// The handshake, as pure functions (ProtocolServer and ProtocolClient apply them to sockets):
//
//   client                                   server (coordinator)
//   Hello{role, versions, software}  ---->   answerHello(): a compatible range and a client role?
//                                    <----   HelloReply{accepted, negotiated_version}
//                                    <----   or HelloReply{refused, reason naming both versions}, close
//
// A Hello from another coordinator, or without a role, is refused too: only contributors and
// requesters connect to a coordinator.
#include <QString>

#include "protocol/Protocol.h"
#include "protocol/raven.pb.h"

namespace raven::protocol {

// What a peer says about itself when it opens the conversation.
struct PeerInfo {
    wire::Role role = wire::ROLE_UNSPECIFIED;
    VersionRange versions;    // defaults to this build's
    QString softwareVersion;  // defaults to raven::kVersion when empty
    QString peerName;
};

wire::Hello makeHello(const PeerInfo& self);

// The server's answer to a client's Hello; `self` is the server.
wire::HelloReply answerHello(const wire::Hello& hello, const PeerInfo& self);

// The client's check of the server's answer (the server may be older or newer than the client):
// empty when the conversation can go on, else why not (naming both sides' versions).
QString checkHelloReply(const wire::HelloReply& reply, const PeerInfo& self);

// "contributor", "requester", "coordinator", "unspecified".
QString roleName(wire::Role role);

}  // namespace raven::protocol
