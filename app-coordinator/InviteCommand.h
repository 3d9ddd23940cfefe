#pragma once
// `raven-coordinator invite NAME --host HOST:PORT`: registers a contributor and prints the one line a
// volunteer pastes into raven-contributor's setup:
//
//   raven://coord.example.org:7443?fp=sha256:AB:CD:...&token=T&name=NAME
//
// It carries the certificate fingerprint of this data directory's TLS identity (so the volunteer's
// first connection is already verified) and the new contributor's token (shown only this once).
#include <QString>

namespace raven::ledger {
class CoordinatorStore;
}

namespace raven::coordinator {

// The invite line for a new contributor NAME reachable at hostPort. Throws raven::Error.
QString makeInvite(ledger::CoordinatorStore& store, const QString& dataDir, const QString& name,
                   const QString& hostPort);

}  // namespace raven::coordinator
