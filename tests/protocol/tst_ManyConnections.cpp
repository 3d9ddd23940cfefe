// A coordinator's process with many connections: the event loop it picks (EventDispatcher.h) and the
// file-descriptor limit it raises (ConnectionLimits.h), on real TLS WebSockets over loopback.
//
// The soft RLIMIT_NOFILE is lowered to 128 before the server starts; 150 clients and their 150
// server-side sockets in this one process need 300 descriptors and more, so they connect only if the
// server raised the limit to the hard one. (bench/coordinator_load measures 10,000 in two processes.)
#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <sys/resource.h>

#include <memory>
#include <vector>

#include "protocol/ConnectionLimits.h"
#include "protocol/EventDispatcher.h"
#include "protocol/ProtocolClient.h"
#include "protocol/ProtocolServer.h"

using namespace raven;
using namespace raven::protocol;

class ManyConnectionsTest : public QObject {
    Q_OBJECT

private slots:
    void theScalableDispatcherRuns() {
        // preferScalableEventDispatcher() ran before the application object (main below).
        QCOMPARE(QByteArray(QCoreApplication::eventDispatcher()->metaObject()->className()),
                 QByteArray("QEventDispatcherUNIX"));
    }

    void raisedFileLimitHoldsManyConnections() {
        rlimit limit{};
        QCOMPARE(getrlimit(RLIMIT_NOFILE, &limit), 0);
        constexpr int kClients = 150;
        if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < 2 * kClients + 200)
            QSKIP("the hard file-descriptor limit is too low for this test");
        rlimit lowered = limit;
        lowered.rlim_cur = 128;
        QCOMPARE(setrlimit(RLIMIT_NOFILE, &lowered), 0);

        ProtocolServer::Options options;
        options.maxConnections = 4096;
        options.maxConnectionsPerAddress = 4096;
        ProtocolServer server(ServerIdentity::generate(QStringLiteral("raven-test")), options);
        rlimit now{};
        QCOMPARE(getrlimit(RLIMIT_NOFILE, &now), 0);
        QCOMPARE(now.rlim_cur, limit.rlim_max);  // raised back to the hard limit by ConnectionLimits
        server.listen();

        QTemporaryDir dir;
        const QString knownHosts = dir.filePath(QStringLiteral("known_hosts"));
        std::vector<std::unique_ptr<ProtocolClient>> clients;
        int ready = 0, ended = 0;
        for (int i = 0; i < kClients; ++i) {
            auto client = std::make_unique<ProtocolClient>(ProtocolClient::Options{
                PeerInfo{wire::ROLE_CONTRIBUTOR, {}, {}, QStringLiteral("c%1").arg(i)}, knownHosts});
            connect(client.get(), &ProtocolClient::ready, this, [&ready] { ++ready; });
            connect(client.get(), &ProtocolClient::disconnected, this, [&ended] { ++ended; });
            client->open(server.url());
            clients.push_back(std::move(client));
        }
        QVERIFY2(QTest::qWaitFor([&] { return ready + ended == kClients; }, 60000),
                 qPrintable(QStringLiteral("%1 ready, %2 ended").arg(ready).arg(ended)));
        QCOMPARE(ended, 0);
        QCOMPARE(static_cast<int>(server.connections().size()), kClients);
        QCOMPARE(server.refusedConnections(), 0);

        // Every session answers on the same loop: a heartbeat each, answered by the server.
        connect(&server, &ProtocolServer::messageReceived, this, [&server](ConnectionId id, const wire::Envelope& e) {
            wire::Envelope ack;
            ack.mutable_heartbeat_ack()->set_server_time_ms(e.heartbeat().sent_at_ms() + 1);
            server.reply(id, e.request_id(), ack);
        });
        int acked = 0;
        for (auto& client : clients) {
            wire::Envelope heartbeat;
            heartbeat.mutable_heartbeat()->set_sent_at_ms(41);
            client->request(heartbeat, [&acked](const wire::Envelope& reply) {
                if (reply.has_heartbeat_ack() && reply.heartbeat_ack().server_time_ms() == 42) ++acked;
                return ProtocolClient::ReplyFlow::Done;
            });
        }
        QVERIFY2(QTest::qWaitFor([&] { return acked == kClients; }, 30000), qPrintable(QString::number(acked)));
        clients.clear();
        QVERIFY(QTest::qWaitFor([&] { return server.openConnections() == 0; }, 30000));
    }
};

int main(int argc, char** argv) {
    preferScalableEventDispatcher();
    QCoreApplication app(argc, argv);
    ManyConnectionsTest test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_ManyConnections.moc"
