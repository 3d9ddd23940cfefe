#pragma once
// Test peers for the transport tests: RawPeer speaks WebSocket without Raven's rules (to send what a
// well-behaved ProtocolClient never would), and TestCoordinator answers a few requests the way a
// coordinator would, so that clients have someone to talk to.
#include <QList>
#include <QMap>
#include <QSignalSpy>
#include <QSslError>
#include <QTest>
#include <QWebSocket>

#include <functional>
#include <vector>

#include "protocol/Chunking.h"
#include "protocol/Framing.h"
#include "protocol/Handshake.h"
#include "protocol/ProtocolServer.h"

namespace raven::test {

using namespace raven::protocol;

class RawPeer : public QObject {
public:
    RawPeer() {
        QObject::connect(&socket, &QWebSocket::sslErrors, &socket,
                         [this](const QList<QSslError>&) { socket.ignoreSslErrors(); });
        QObject::connect(&socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray& bytes) {
            DecodedFrame frame = decodeFrame(bytes);
            if (frame.ok) received.append(frame.envelope);
        });
        QObject::connect(&socket, &QWebSocket::disconnected, this, [this] { closed = true; });
    }

    bool open(const QUrl& url) {
        QSignalSpy connected(&socket, &QWebSocket::connected);
        socket.open(url);
        return connected.wait(5000);
    }
    void sendEnvelope(const wire::Envelope& envelope) { socket.sendBinaryMessage(encodeFrame(envelope)); }
    void sendRaw(const QByteArray& bytes) { socket.sendBinaryMessage(bytes); }
    bool sayHello() {
        wire::Envelope hello;
        hello.set_request_id(1);
        *hello.mutable_hello() = makeHello(PeerInfo{wire::ROLE_CONTRIBUTOR, {}, {}, QStringLiteral("raw peer")});
        sendEnvelope(hello);
        return QTest::qWaitFor([this] { return !received.isEmpty(); }, 5000) && received.first().has_hello_reply() &&
               received.first().hello_reply().accepted();
    }
    bool waitClosed() {
        return QTest::qWaitFor([this] { return closed; }, 10000);
    }

    QWebSocket socket;
    QList<wire::Envelope> received;
    bool closed = false;
};

// Answers Heartbeat with HeartbeatAck{server_time_ms = sent_at_ms + 1000}, holding the answers back
// until `holdHeartbeats` have arrived and then replying in reverse order (to test correlation), and
// FetchShard with the shard's chunks from `shards`.
class TestCoordinator : public QObject {
public:
    explicit TestCoordinator(ProtocolServer& server) : server_(server) {
        QObject::connect(&server, &ProtocolServer::peerConnected, this,
                         [this](ConnectionId id, const wire::Hello&) { connected.append(id); });
        QObject::connect(&server, &ProtocolServer::peerDisconnected, this,
                         [this](ConnectionId id, const QString& reason) { disconnected.insert(id, reason); });
        QObject::connect(&server, &ProtocolServer::messageReceived, this,
                         [this](ConnectionId id, const wire::Envelope& e) { onMessage(id, e); });
    }

    int holdHeartbeats = 1;
    QMap<QString, QByteArray> shards;  // by SHA-256
    // Answers FetchWeights when set (else INVALID_ARGUMENT, as for anything but shards).
    std::function<std::vector<wire::WeightsChunk>(const wire::FetchWeights&)> weights;
    QList<ConnectionId> connected;
    QMap<ConnectionId, QString> disconnected;

private:
    void onMessage(ConnectionId id, const wire::Envelope& request) {
        if (request.has_heartbeat()) {
            held_.push_back(request);
            if (static_cast<int>(held_.size()) < holdHeartbeats) return;
            for (auto it = held_.rbegin(); it != held_.rend(); ++it) {
                wire::Envelope ack;
                ack.mutable_heartbeat_ack()->set_server_time_ms(it->heartbeat().sent_at_ms() + 1000);
                server_.reply(id, it->request_id(), ack);
            }
            held_.clear();
        } else if (request.has_fetch_shard()) {
            const QString hash = QString::fromStdString(request.fetch_shard().shard_sha256());
            if (!shards.contains(hash)) {
                server_.send(id, makeError(wire::ERROR_CODE_NOT_FOUND, QStringLiteral("no shard %1").arg(hash), {},
                                           request.request_id()));
                return;
            }
            for (wire::ContentChunk& chunk : splitContent(shards.value(hash), request.fetch_shard().accept_zstd())) {
                wire::Envelope reply;
                *reply.mutable_shard_chunk()->mutable_content() = std::move(chunk);
                server_.reply(id, request.request_id(), reply);
            }
        } else if (request.has_fetch_weights() && weights) {
            for (wire::WeightsChunk& chunk : weights(request.fetch_weights())) {
                wire::Envelope reply;
                *reply.mutable_weights_chunk() = std::move(chunk);
                server_.reply(id, request.request_id(), reply);
            }
        } else {
            server_.send(id, makeError(wire::ERROR_CODE_INVALID_ARGUMENT,
                                       QStringLiteral("test coordinator does not serve %1").arg(payloadName(request)),
                                       {}, request.request_id()));
        }
    }

    ProtocolServer& server_;
    std::vector<wire::Envelope> held_;
};

}  // namespace raven::test
