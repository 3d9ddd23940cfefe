#pragma once
// A real coordinator at a loopback port chosen once, so that a test can stop it and start one again
// at the same address: a connection that is lost and comes back (the same data directory: the same
// certificate), or an impostor in its place (another directory: another certificate).
//
//   CoordinatorAtFixedPort at;
//   auto coordinator = at.start(dir.filePath("a"));
//   coordinator.reset();                          // gone
//   coordinator = at.start(dir.filePath("a"));    // back, same certificate
#include <QHostAddress>
#include <QTcpServer>

#include <memory>

#include "coordinator/Coordinator.h"

struct CoordinatorAtFixedPort {
    quint16 port = 0;

    CoordinatorAtFixedPort() {
        QTcpServer probe;  // a port free now; closed again for the coordinator to take
        if (probe.listen(QHostAddress::LocalHost, 0)) port = probe.serverPort();
    }

    std::unique_ptr<raven::coordinator::Coordinator> start(const QString& dataDir) const {
        raven::coordinator::CoordinatorOptions o;
        o.dataDir = dataDir;
        o.port = port;
        auto c = std::make_unique<raven::coordinator::Coordinator>(o);
        c->start();
        return c;
    }
};
