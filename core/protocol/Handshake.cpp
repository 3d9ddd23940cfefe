#include "protocol/Handshake.h"

#include "base/Version.h"
#include "protocol/BoundedText.h"

namespace raven::protocol {
namespace {

QString softwareOf(const PeerInfo& self) {
    return self.softwareVersion.isEmpty() ? QString::fromLatin1(raven::kVersion) : self.softwareVersion;
}

QString describe(VersionRange range) { return QString::fromStdString(describeVersions(range)); }

}  // namespace

wire::Hello makeHello(const PeerInfo& self) {
    wire::Hello hello;
    hello.set_role(self.role);
    hello.set_protocol_version(self.versions.max);
    hello.set_min_protocol_version(self.versions.min);
    hello.set_software_version(softwareOf(self).toStdString());
    hello.set_peer_name(self.peerName.toStdString());
    return hello;
}

wire::HelloReply answerHello(const wire::Hello& hello, const PeerInfo& self) {
    wire::HelloReply reply;
    reply.set_role(self.role);
    reply.set_protocol_version(self.versions.max);
    reply.set_min_protocol_version(self.versions.min);
    reply.set_software_version(softwareOf(self).toStdString());

    // A peer that names no minimum (an old or careless one) accepts only its own version.
    const VersionRange theirs{
        hello.min_protocol_version() == 0 ? hello.protocol_version() : hello.min_protocol_version(),
        hello.protocol_version()};
    const auto negotiated = negotiateVersion(self.versions, theirs);
    if (!negotiated) {
        reply.set_accepted(false);
        reply.set_reason(
            QStringLiteral("incompatible versions: this %1 (Raven %2) speaks %3, the %4 (Raven %5) speaks %6; "
                           "update the older side")
                .arg(roleName(self.role), softwareOf(self), describe(self.versions), roleName(hello.role()),
                     quotePeer(hello.software_version(), 64), describe(theirs))
                .toStdString());
        return reply;
    }
    if (hello.role() != wire::ROLE_CONTRIBUTOR && hello.role() != wire::ROLE_REQUESTER) {
        reply.set_accepted(false);
        reply.set_reason(QStringLiteral("a %1 accepts contributors and requesters, not a peer with role %2")
                             .arg(roleName(self.role), roleName(hello.role()))
                             .toStdString());
        return reply;
    }
    reply.set_accepted(true);
    reply.set_negotiated_version(*negotiated);
    return reply;
}

QString checkHelloReply(const wire::HelloReply& reply, const PeerInfo& self) {
    const VersionRange theirs{
        reply.min_protocol_version() == 0 ? reply.protocol_version() : reply.min_protocol_version(),
        reply.protocol_version()};
    if (!reply.accepted()) {
        const QString reason = QString::fromStdString(reply.reason());
        return reason.isEmpty()
                   ? QStringLiteral("the %1 (%2) refused this %3 (%4) without a reason")
                         .arg(roleName(reply.role()), describe(theirs), roleName(self.role), describe(self.versions))
                   : reason;
    }
    const auto negotiated = negotiateVersion(self.versions, theirs);
    if (!negotiated || *negotiated != reply.negotiated_version()) {
        return QStringLiteral(
                   "the %1 (Raven %2, %3) chose protocol version %4, which this %5 (Raven %6, %7) cannot speak; "
                   "update the older side")
            .arg(roleName(reply.role()), QString::fromStdString(reply.software_version()), describe(theirs))
            .arg(reply.negotiated_version())
            .arg(roleName(self.role), softwareOf(self), describe(self.versions));
    }
    return {};
}

QString roleName(wire::Role role) {
    switch (role) {
        case wire::ROLE_CONTRIBUTOR:
            return QStringLiteral("contributor");
        case wire::ROLE_REQUESTER:
            return QStringLiteral("requester");
        case wire::ROLE_COORDINATOR:
            return QStringLiteral("coordinator");
        default:
            return QStringLiteral("unspecified peer");
    }
}

}  // namespace raven::protocol
