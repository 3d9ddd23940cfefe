#include "protocol/ProtocolServer.h"

#include <QSslConfiguration>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include "base/Error.h"
#include "protocol/Framing.h"
#include "protocol/PeerSocket.h"

namespace raven::protocol {

struct ProtocolServer::Connection {
    ConnectionId id = 0;
    QWebSocket* socket = nullptr;      // owned; deleted later once disconnected
    QTimer* helloTimer = nullptr;      // child of socket
    std::optional<wire::Hello> hello;  // set once the handshake was accepted
    QString ourReason;                 // why we closed it, when we did
};

ProtocolServer::ProtocolServer(ServerIdentity identity, QObject* parent)
    : ProtocolServer(std::move(identity), Options{}, parent) {}

ProtocolServer::ProtocolServer(ServerIdentity identity, Options options, QObject* parent)
    : QObject(parent), identity_(std::move(identity)), options_(std::move(options)) {
    RAVEN_CHECK(!identity_.certificate.isNull() && !identity_.privateKey.isNull(),
                "the protocol server needs a TLS certificate and key", "use ServerIdentity::loadOrCreate(dataDir)");
    server_ = new QWebSocketServer(QStringLiteral("raven-coordinator"), QWebSocketServer::SecureMode, this);
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificate(identity_.certificate);
    tls.setPrivateKey(identity_.privateKey);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone);  // clients prove who they are with tokens, not certificates
    tls.setProtocol(QSsl::TlsV1_2OrLater);
    server_->setSslConfiguration(tls);
    connect(server_, &QWebSocketServer::newConnection, this, &ProtocolServer::acceptPending);
}

ProtocolServer::~ProtocolServer() {
    // Sockets are children of server_; drop our views of them without emitting signals.
    for (auto& [id, connection] : connections_) connection->socket->disconnect(this);
}

void ProtocolServer::listen(const QHostAddress& address, quint16 port) {
    RAVEN_CHECK(server_->listen(address, port),
                "cannot listen on " + address.toString().toStdString() + ":" + std::to_string(port) + ": " +
                    server_->errorString().toStdString(),
                "pick another port, or stop the program that uses it");
}

void ProtocolServer::close() {
    server_->close();
    std::vector<ConnectionId> ids;
    for (const auto& [id, connection] : connections_) ids.push_back(id);
    for (ConnectionId id : ids) {
        if (Connection* connection = find(id)) {
            connection->ourReason = QStringLiteral("the coordinator is shutting down");
            connection->socket->close(QWebSocketProtocol::CloseCodeGoingAway, connection->ourReason);
        }
    }
}

quint16 ProtocolServer::port() const { return server_->serverPort(); }

QUrl ProtocolServer::url() const {
    QHostAddress address = server_->serverAddress();
    // Listening on every interface: clients on this machine reach it on loopback.
    for (QHostAddress::SpecialAddress any : {QHostAddress::Any, QHostAddress::AnyIPv4})
        if (address == any) address = QHostAddress::LocalHost;
    if (address == QHostAddress::AnyIPv6) address = QHostAddress::LocalHostIPv6;
    QUrl url;
    url.setScheme(QStringLiteral("wss"));
    url.setHost(address.toString());
    url.setPort(port());
    return url;
}

bool ProtocolServer::send(ConnectionId id, const wire::Envelope& envelope) {
    const QByteArray bytes = encodeFrame(envelope);
    Connection* connection = find(id);
    if (!connection || !connection->hello || !connection->ourReason.isEmpty() ||
        connection->socket->state() != QAbstractSocket::ConnectedState)
        return false;
    connection->socket->sendBinaryMessage(bytes);
    return true;
}

bool ProtocolServer::reply(ConnectionId id, std::uint64_t requestId, wire::Envelope envelope) {
    envelope.set_request_id(requestId);
    return send(id, envelope);
}

void ProtocolServer::closeConnection(ConnectionId id, wire::ErrorCode code, const QString& reason,
                                     const QString& hint) {
    if (Connection* connection = find(id)) violate(*connection, code, reason, hint);
}

std::vector<ConnectionId> ProtocolServer::connections() const {
    std::vector<ConnectionId> ids;
    for (const auto& [id, connection] : connections_)
        if (connection->hello && connection->ourReason.isEmpty()) ids.push_back(id);
    return ids;
}

std::optional<wire::Hello> ProtocolServer::peerHello(ConnectionId id) const {
    const Connection* connection = find(id);
    return connection ? connection->hello : std::nullopt;
}

void ProtocolServer::acceptPending() {
    while (QWebSocket* socket = server_->nextPendingConnection()) {
        auto connection = std::make_unique<Connection>();
        const ConnectionId id = nextId_++;
        connection->id = id;
        connection->socket = socket;
        applyBounds(*socket);
        connect(socket, &QWebSocket::binaryMessageReceived, this,
                [this, id](const QByteArray& bytes) { onMessage(id, bytes); });
        connect(socket, &QWebSocket::textMessageReceived, this, [this, id](const QString&) {
            if (Connection* c = find(id))
                violate(*c, wire::ERROR_CODE_MALFORMED,
                        QStringLiteral("text message received; Raven speaks binary envelopes"));
        });
        connect(socket, &QWebSocket::disconnected, this, [this, id] { onDisconnected(id); });

        connection->helloTimer = new QTimer(socket);
        connection->helloTimer->setSingleShot(true);
        connect(connection->helloTimer, &QTimer::timeout, this, [this, id] {
            if (Connection* c = find(id); c && !c->hello)
                violate(*c, wire::ERROR_CODE_OUT_OF_ORDER,
                        QStringLiteral("no Hello within %1 ms of connecting").arg(options_.helloTimeoutMs));
        });
        connection->helloTimer->start(options_.helloTimeoutMs);
        connections_.emplace(id, std::move(connection));
    }
}

void ProtocolServer::onMessage(ConnectionId id, const QByteArray& bytes) {
    Connection* connection = find(id);
    if (!connection || !connection->ourReason.isEmpty()) return;  // closing: ignore what is still in flight
    DecodedFrame frame = decodeFrame(bytes);
    if (!frame.ok) {
        violate(*connection, frame.error, frame.reason);
        return;
    }
    if (!connection->hello) {
        onHello(*connection, frame.envelope);
        return;
    }
    if (frame.envelope.has_hello() || frame.envelope.has_hello_reply()) {
        violate(*connection, wire::ERROR_CODE_OUT_OF_ORDER,
                QStringLiteral("%1 after the handshake was done").arg(payloadName(frame.envelope)));
        return;
    }
    emit messageReceived(id, frame.envelope);
}

void ProtocolServer::onHello(Connection& connection, const wire::Envelope& envelope) {
    if (!envelope.has_hello()) {
        violate(connection, wire::ERROR_CODE_OUT_OF_ORDER,
                QStringLiteral("%1 before Hello; the first message must be Hello").arg(payloadName(envelope)),
                QStringLiteral("send Hello first (protocol/Handshake.h, makeHello)"));
        return;
    }
    connection.helloTimer->stop();
    wire::Envelope answer;
    answer.set_request_id(envelope.request_id());
    *answer.mutable_hello_reply() = answerHello(envelope.hello(), options_.self);
    if (!answer.hello_reply().accepted()) {
        const QString reason = QString::fromStdString(answer.hello_reply().reason());
        connection.ourReason = reason;
        connection.socket->sendBinaryMessage(encodeFrame(answer));
        connection.socket->close(QWebSocketProtocol::CloseCodePolicyViolated, clampCloseReason(reason));
        return;
    }
    connection.hello = envelope.hello();
    connection.socket->sendBinaryMessage(encodeFrame(answer));
    emit peerConnected(connection.id, envelope.hello());
}

void ProtocolServer::onDisconnected(ConnectionId id) {
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    std::unique_ptr<Connection> connection = std::move(it->second);
    connections_.erase(it);
    const QString reason = endReason(*connection->socket, connection->ourReason);
    connection->socket->disconnect(this);
    connection->socket->deleteLater();
    emit peerDisconnected(id, reason);
}

void ProtocolServer::violate(Connection& connection, wire::ErrorCode code, const QString& reason, const QString& hint) {
    if (!connection.ourReason.isEmpty()) return;
    connection.ourReason = reason;
    closeWithError(*connection.socket, code, reason, hint);
}

ProtocolServer::Connection* ProtocolServer::find(ConnectionId id) const {
    auto it = connections_.find(id);
    return it == connections_.end() ? nullptr : it->second.get();
}

}  // namespace raven::protocol
