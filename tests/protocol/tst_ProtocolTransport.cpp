// The wire protocol over real TLS WebSockets on loopback: handshake and version negotiation, the
// framing rules (each violation closes only the offending connection, with a reason), certificate
// pinning (trust on first use), the server's certificate kept across restarts, request/response
// correlation and a chunked, zstd-compressed shard transfer.
#include <QFile>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "TestPeers.h"
#include "base/Error.h"
#include "protocol/Chunking.h"
#include "protocol/KnownHosts.h"
#include "protocol/ProtocolClient.h"
#include "protocol/ProtocolServer.h"
#include "protocol/ServerIdentity.h"

using namespace raven;
using namespace raven::protocol;
using raven::test::RawPeer;
using raven::test::TestCoordinator;

class ProtocolTransportTest : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    ServerIdentity identity_;

    std::unique_ptr<ProtocolClient> makeClient(wire::Role role = wire::ROLE_CONTRIBUTOR, VersionRange versions = {},
                                               const QString& knownHosts = {}) {
        ProtocolClient::Options options;
        options.self = PeerInfo{role, versions, QStringLiteral("9.9.9-test"), QStringLiteral("test client")};
        options.knownHostsPath = knownHosts.isEmpty() ? dir_.filePath(QStringLiteral("known_hosts")) : knownHosts;
        return std::make_unique<ProtocolClient>(options);
    }

    static bool waitReady(ProtocolClient& client) {
        return QTest::qWaitFor([&] { return client.isReady(); }, 5000);
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        identity_ = ServerIdentity::generate(QStringLiteral("raven-test"));
    }

    void handshakeAccepted() {
        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        server.listen();
        auto client = makeClient(wire::ROLE_REQUESTER);
        QSignalSpy ready(client.get(), &ProtocolClient::ready);
        client->open(server.url());
        QVERIFY(ready.wait(5000));
        QCOMPARE(client->serverHello().negotiated_version(), kProtocolVersion);
        QCOMPARE(client->serverHello().role(), wire::ROLE_COORDINATOR);
        QCOMPARE(client->serverFingerprint(), server.fingerprint());
        QTRY_COMPARE(coordinator.connected.size(), 1);
        const auto hello = server.peerHello(coordinator.connected.first());
        QVERIFY(hello.has_value());
        QCOMPARE(hello->role(), wire::ROLE_REQUESTER);
        QCOMPARE(hello->software_version(), std::string("9.9.9-test"));
        QCOMPARE(server.connections().size(), size_t(1));
    }

    void versionMismatchRefusedNamingBothVersions_data() {
        QTest::addColumn<uint>("clientMin");
        QTest::addColumn<uint>("clientMax");
        QTest::newRow("client newer") << uint(kProtocolVersion + 5) << uint(kProtocolVersion + 7);
        QTest::newRow("client older") << 0u << 0u;
    }
    void versionMismatchRefusedNamingBothVersions() {
        QFETCH(uint, clientMin);
        QFETCH(uint, clientMax);
        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        server.listen();
        auto client = makeClient(wire::ROLE_CONTRIBUTOR, VersionRange{clientMin, clientMax});
        QSignalSpy refused(client.get(), &ProtocolClient::refused);
        QSignalSpy disconnected(client.get(), &ProtocolClient::disconnected);
        client->open(server.url());
        QVERIFY(refused.wait(5000));
        const QString reason = refused.first().first().toString();
        QVERIFY2(reason.contains(QString::fromStdString(describeVersions(VersionRange{}))), qPrintable(reason));
        QVERIFY2(reason.contains(QString::fromStdString(describeVersions(VersionRange{clientMin, clientMax}))),
                 qPrintable(reason));
        QVERIFY(!client->isReady());
        QTRY_COMPARE(disconnected.size(), 1);
        QTRY_COMPARE(coordinator.disconnected.size(), 1);
        QVERIFY(coordinator.connected.isEmpty());
        QVERIFY(coordinator.disconnected.first().contains(QStringLiteral("incompatible versions")));
    }

    void messageBeforeHelloClosesConnection() {
        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        server.listen();
        RawPeer peer;
        QVERIFY(peer.open(server.url()));
        wire::Envelope heartbeat;
        heartbeat.set_request_id(7);
        heartbeat.mutable_heartbeat()->set_sent_at_ms(1);
        peer.sendEnvelope(heartbeat);
        QVERIFY(peer.waitClosed());
        QCOMPARE(peer.socket.closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);
        QVERIFY2(peer.socket.closeReason().contains(QStringLiteral("heartbeat before Hello")),
                 qPrintable(peer.socket.closeReason()));
        QCOMPARE(peer.received.size(), 1);
        QCOMPARE(peer.received.first().error().code(), wire::ERROR_CODE_OUT_OF_ORDER);
        QTRY_COMPARE(coordinator.disconnected.size(), 1);
        QVERIFY(coordinator.connected.isEmpty());
    }

    void secondHelloClosesConnection() {
        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        server.listen();
        RawPeer peer;
        QVERIFY(peer.open(server.url()));
        QVERIFY(peer.sayHello());
        peer.received.clear();
        wire::Envelope hello;
        *hello.mutable_hello() = makeHello(PeerInfo{wire::ROLE_CONTRIBUTOR});
        peer.sendEnvelope(hello);
        QVERIFY(peer.waitClosed());
        QVERIFY2(peer.socket.closeReason().contains(QStringLiteral("hello after the handshake")),
                 qPrintable(peer.socket.closeReason()));
    }

    // Above kMaxMessageBytes: our check, with the sizes in the reason. Above the hard limit: Qt stops
    // reading while the frames arrive. Either way only that connection closes.
    void oversizedMessageClosesOnlyThatConnection_data() {
        QTest::addColumn<qint64>("size");
        QTest::addColumn<QString>("reason");
        QTest::newRow("above the bound") << qint64(kMaxMessageBytes + 1024)
                                         << QStringLiteral("exceeds the bound of %1 bytes").arg(kMaxMessageBytes);
        QTest::newRow("above the hard limit") << qint64(kHardMessageLimitBytes + 1) << QStringLiteral("too big");
    }
    void oversizedMessageClosesOnlyThatConnection() {
        QFETCH(qint64, size);
        QFETCH(QString, reason);
        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        server.listen();
        auto good = makeClient();
        good->open(server.url());
        QVERIFY(waitReady(*good));

        RawPeer bad;
        QVERIFY(bad.open(server.url()));
        QVERIFY(bad.sayHello());
        QTRY_COMPARE(coordinator.connected.size(), 2);
        const ConnectionId badId = coordinator.connected.last();
        bad.sendRaw(QByteArray(size, 'x'));
        QVERIFY(bad.waitClosed());
        QCOMPARE(bad.socket.closeCode(), QWebSocketProtocol::CloseCodeTooMuchData);
        QVERIFY2(bad.socket.closeReason().contains(reason), qPrintable(bad.socket.closeReason()));
        QTRY_VERIFY(coordinator.disconnected.contains(badId));
        QVERIFY2(coordinator.disconnected.value(badId).contains(reason),
                 qPrintable(coordinator.disconnected.value(badId)));

        // The other connection did not notice: it is still there and answered.
        QVERIFY(good->isReady());
        QCOMPARE(server.connections(), std::vector<ConnectionId>{coordinator.connected.first()});
        bool answered = false;
        wire::Envelope heartbeat;
        heartbeat.mutable_heartbeat()->set_sent_at_ms(5);
        good->request(heartbeat, [&](const wire::Envelope& reply) {
            answered = reply.has_heartbeat_ack() && reply.heartbeat_ack().server_time_ms() == 1005;
            return ProtocolClient::ReplyFlow::Done;
        });
        QTRY_VERIFY(answered);
    }

    void garbageClosesWithReason_data() {
        QTest::addColumn<bool>("afterHello");
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("text-like bytes after Hello") << true << QByteArray("this is not protobuf at all");
        QTest::newRow("truncated varint after Hello") << true << QByteArray("\x08\xff\xff\xff", 4);
        QTest::newRow("unknown fields only, before Hello") << false << QByteArray("\xa0\x06\x01", 3);
    }
    void garbageClosesWithReason() {
        QFETCH(bool, afterHello);
        QFETCH(QByteArray, bytes);
        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        server.listen();
        RawPeer peer;
        QVERIFY(peer.open(server.url()));
        if (afterHello) QVERIFY(peer.sayHello());
        peer.received.clear();
        peer.sendRaw(bytes);
        QVERIFY(peer.waitClosed());
        QCOMPARE(peer.socket.closeCode(), QWebSocketProtocol::CloseCodeProtocolError);
        QVERIFY2(peer.socket.closeReason().contains(QStringLiteral("bytes")), qPrintable(peer.socket.closeReason()));
        QCOMPARE(peer.received.size(), 1);
        QCOMPARE(peer.received.first().error().code(), wire::ERROR_CODE_MALFORMED);
        QTRY_COMPARE(coordinator.disconnected.size(), 1);
    }

    void textMessageClosesConnection() {
        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        server.listen();
        RawPeer peer;
        QVERIFY(peer.open(server.url()));
        peer.socket.sendTextMessage(QStringLiteral("{\"hello\": 1}"));
        QVERIFY(peer.waitClosed());
        QVERIFY2(peer.socket.closeReason().contains(QStringLiteral("binary")), qPrintable(peer.socket.closeReason()));
    }

    void silentPeerClosedAfterHelloTimeout() {
        ProtocolServer::Options options;
        options.helloTimeoutMs = 200;
        ProtocolServer server(identity_, options);
        TestCoordinator coordinator(server);
        server.listen();
        RawPeer peer;
        QVERIFY(peer.open(server.url()));
        QVERIFY(peer.waitClosed());
        QVERIFY2(peer.socket.closeReason().contains(QStringLiteral("no Hello")), qPrintable(peer.socket.closeReason()));
    }

    // Trust on first use, and the certificate kept across restarts: the first contact pins the
    // fingerprint; a restarted server (same data directory) is trusted; a server with another
    // certificate on the same address is refused with both fingerprints and the file to edit.
    void certificatePinnedAndReusedAcrossRestarts() {
        QTemporaryDir dataDir;
        QVERIFY(dataDir.isValid());
        const QString knownHosts = dataDir.filePath(QStringLiteral("client/known_hosts"));
        quint16 port = 0;
        QString pinned;
        {
            ProtocolServer server(ServerIdentity::loadOrCreate(dataDir.path()));
            server.listen();
            port = server.port();
            pinned = server.fingerprint();
            auto client = makeClient(wire::ROLE_CONTRIBUTOR, {}, knownHosts);
            client->open(server.url());
            QVERIFY(waitReady(*client));
            const KnownHosts::Check check =
                KnownHosts(knownHosts).check(QStringLiteral("127.0.0.1:%1").arg(port), pinned);
            QCOMPARE(check.verdict, KnownHosts::Verdict::Trusted);
            client->close();
            QTRY_VERIFY(!client->isReady());
        }
        QFile key(dataDir.filePath(QStringLiteral("tls/server.key")));
        QCOMPARE(key.permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup), QFileDevice::Permissions{});
        {
            // Restarted: same data directory, same certificate, still trusted.
            ProtocolServer server(ServerIdentity::loadOrCreate(dataDir.path()));
            QCOMPARE(server.fingerprint(), pinned);
            server.listen(QHostAddress::LocalHost, port);
            auto client = makeClient(wire::ROLE_CONTRIBUTOR, {}, knownHosts);
            client->open(server.url());
            QVERIFY(waitReady(*client));
        }
        {
            // Another certificate at the same address: refused, naming both fingerprints and the file.
            ProtocolServer server(ServerIdentity::generate(QStringLiteral("impostor")));
            server.listen(QHostAddress::LocalHost, port);
            auto client = makeClient(wire::ROLE_CONTRIBUTOR, {}, knownHosts);
            QSignalSpy refused(client.get(), &ProtocolClient::refused);
            QSignalSpy disconnected(client.get(), &ProtocolClient::disconnected);
            client->open(server.url());
            QVERIFY(refused.wait(5000));
            const QString reason = refused.first().first().toString();
            QVERIFY2(reason.contains(pinned), qPrintable(reason));
            QVERIFY2(reason.contains(server.fingerprint()), qPrintable(reason));
            QVERIFY2(reason.contains(knownHosts), qPrintable(reason));
            QVERIFY2(reason.contains(QStringLiteral("127.0.0.1:%1").arg(port)), qPrintable(reason));
            QVERIFY(!client->isReady());
            QTRY_COMPARE(disconnected.size(), 1);
            // The pin was not replaced by the impostor's.
            QCOMPARE(KnownHosts(knownHosts).check(QStringLiteral("127.0.0.1:%1").arg(port), pinned).verdict,
                     KnownHosts::Verdict::Trusted);
        }
    }

    void requestsAreCorrelatedWithReplies() {
        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        coordinator.holdHeartbeats = 3;  // answered in reverse order
        server.listen();
        auto client = makeClient();
        client->open(server.url());
        QVERIFY(waitReady(*client));
        QMap<quint64, quint64> answers;  // sent_at_ms -> server_time_ms seen by that request's handler
        QList<quint64> ids;
        for (quint64 sentAt : {10u, 20u, 30u}) {
            wire::Envelope heartbeat;
            heartbeat.mutable_heartbeat()->set_sent_at_ms(sentAt);
            ids.append(client->request(heartbeat, [&answers, sentAt](const wire::Envelope& reply) {
                answers.insert(sentAt, reply.heartbeat_ack().server_time_ms());
                return ProtocolClient::ReplyFlow::Done;
            }));
        }
        QCOMPARE(QSet<quint64>(ids.begin(), ids.end()).size(), 3);
        QTRY_COMPARE(answers.size(), 3);
        QCOMPARE(answers.value(10), 1010u);
        QCOMPARE(answers.value(20), 1020u);
        QCOMPARE(answers.value(30), 1030u);

        // An answer nobody waits for goes to messageReceived.
        QSignalSpy unrouted(client.get(), &ProtocolClient::messageReceived);
        wire::Envelope listJobs;
        listJobs.mutable_list_jobs();
        client->send(listJobs);
        QVERIFY(unrouted.wait(5000));
    }

    void roundTripAndUploadRateMeasuredPerConnection() {
        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        server.listen();
        auto client = makeClient();
        client->open(server.url());
        QVERIFY(waitReady(*client));
        QTRY_COMPARE(coordinator.connected.size(), 1);
        const ConnectionId id = coordinator.connected.first();
        QVERIFY(!server.roundTripMs(id));  // nothing measured yet
        QVERIFY(!server.uploadMbitPerS(id));

        // The client's end answers the ping by itself; on loopback in well under a second.
        server.ping(id);
        QTRY_VERIFY(server.roundTripMs(id).has_value());
        QVERIFY2(*server.roundTripMs(id) >= 0 && *server.roundTripMs(id) < 1000,
                 qPrintable(QString::number(*server.roundTripMs(id))));

        // A small message says nothing of the link; a large one is timed.
        QSignalSpy received(&server, &ProtocolServer::messageReceived);
        wire::Envelope heartbeat;
        heartbeat.mutable_heartbeat()->set_sent_at_ms(1);
        client->send(heartbeat);
        QTRY_COMPARE(received.size(), 1);
        QVERIFY(!server.uploadMbitPerS(id));
        wire::Envelope result;
        wire::SubmitResult& part = *result.mutable_submit_result();
        part.set_work_unit_id("1");
        part.mutable_gradient()->mutable_content()->set_data(std::string(ProtocolServer::kUploadSampleBytes, 'g'));
        client->send(result);
        QTRY_COMPARE(received.size(), 2);
        QVERIFY(server.uploadMbitPerS(id).has_value());
        QVERIFY2(*server.uploadMbitPerS(id) > 0, qPrintable(QString::number(*server.uploadMbitPerS(id))));

        client->close();
        QTRY_VERIFY(!server.roundTripMs(id).has_value());  // the connection is gone
    }

    void chunkedShardTransferWithZstd() {
        // 3 MiB: incompressible halves and zero runs, so the compressed stream still spans several chunks.
        QByteArray shard(3 * 1024 * 1024, '\0');
        QRandomGenerator random(42);
        for (qsizetype i = 0; i < shard.size(); i += 4096)
            if ((i / 4096) % 2 == 0) random.fillRange(reinterpret_cast<quint32*>(shard.data() + i), 1024);
        const QString hash = sha256Hex(shard);

        ProtocolServer server(identity_);
        TestCoordinator coordinator(server);
        coordinator.shards.insert(hash, shard);
        server.listen();
        auto client = makeClient();
        client->open(server.url());
        QVERIFY(waitReady(*client));

        ContentAssembler assembler;
        int chunks = 0;
        bool compressed = false;
        QString failure;
        wire::Envelope fetch;
        fetch.mutable_fetch_shard()->set_shard_sha256(hash.toStdString());
        fetch.mutable_fetch_shard()->set_accept_zstd(true);
        client->request(fetch, [&](const wire::Envelope& reply) {
            if (!reply.has_shard_chunk()) {
                failure = QString::fromStdString(reply.DebugString());
                return ProtocolClient::ReplyFlow::Done;
            }
            ++chunks;
            const wire::ContentChunk& chunk = reply.shard_chunk().content();
            compressed = chunk.zstd() && chunk.total_bytes() < chunk.raw_bytes();
            assembler.add(chunk);
            return assembler.complete() ? ProtocolClient::ReplyFlow::Done : ProtocolClient::ReplyFlow::More;
        });
        QTRY_VERIFY(assembler.complete() || !failure.isEmpty());
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        QVERIFY(compressed);
        QVERIFY2(chunks >= 2, qPrintable(QString::number(chunks)));
        QCOMPARE(assembler.sha256(), hash);
        QVERIFY(assembler.content() == shard);

        // A shard the coordinator does not have: one Error answers the request.
        bool notFound = false;
        fetch.mutable_fetch_shard()->set_shard_sha256(std::string(64, '0'));
        client->request(fetch, [&](const wire::Envelope& reply) {
            notFound = reply.has_error() && reply.error().code() == wire::ERROR_CODE_NOT_FOUND;
            return ProtocolClient::ReplyFlow::Done;
        });
        QTRY_VERIFY(notFound);
    }

    void unreachableCoordinatorReported() {
        quint16 port = 0;
        {
            ProtocolServer server(identity_);
            server.listen();
            port = server.port();
        }  // closed: nothing listens there now
        auto client = makeClient();
        QSignalSpy disconnected(client.get(), &ProtocolClient::disconnected);
        QSignalSpy refused(client.get(), &ProtocolClient::refused);
        client->open(QUrl(QStringLiteral("wss://127.0.0.1:%1").arg(port)));
        QVERIFY(disconnected.wait(5000));
        QVERIFY2(disconnected.first().first().toString().contains(QStringLiteral("refused"), Qt::CaseInsensitive),
                 qPrintable(disconnected.first().first().toString()));
        QCOMPARE(refused.size(), 0);  // worth retrying later
        QVERIFY_THROWS_EXCEPTION(raven::Error, client->send(wire::Envelope{}));
    }

    void pendingRequestsFailWhenConnectionEnds() {
        auto server = std::make_unique<ProtocolServer>(identity_);
        TestCoordinator coordinator(*server);
        coordinator.holdHeartbeats = 2;  // the first heartbeat is never answered
        server->listen();
        auto client = makeClient();
        client->open(server->url());
        QVERIFY(waitReady(*client));
        wire::ErrorCode code = wire::ERROR_CODE_UNSPECIFIED;
        wire::Envelope heartbeat;
        heartbeat.mutable_heartbeat()->set_sent_at_ms(1);
        client->request(heartbeat, [&](const wire::Envelope& reply) {
            code = reply.error().code();
            return ProtocolClient::ReplyFlow::Done;
        });
        QSignalSpy disconnected(client.get(), &ProtocolClient::disconnected);
        QTRY_COMPARE(coordinator.connected.size(), 1);
        server->close();
        QVERIFY(disconnected.wait(5000));
        QVERIFY2(disconnected.first().first().toString().contains(QStringLiteral("shutting down")),
                 qPrintable(disconnected.first().first().toString()));
        QCOMPARE(code, wire::ERROR_CODE_UNAVAILABLE);
    }
};

QTEST_GUILESS_MAIN(ProtocolTransportTest)
#include "tst_ProtocolTransport.moc"
