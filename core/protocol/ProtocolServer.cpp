#include "protocol/ProtocolServer.h"

#include <QLoggingCategory>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpServer>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "base/Error.h"
#include "protocol/BoundedText.h"
#include "protocol/Framing.h"
#include "protocol/PeerSocket.h"

namespace raven::protocol {

namespace {

// A QTcpServer that hands each accepted descriptor to a callback instead of queueing a QTcpSocket,
// so that the server decides (admission, TLS) before anything is allocated for the peer.
class TcpListener : public QTcpServer {
public:
    std::function<void(qintptr)> onIncoming;

protected:
    void incomingConnection(qintptr descriptor) override { onIncoming(descriptor); }
};

// One admitted connection's place in the limits, given back exactly once whichever way it ends.
struct Admission {
    QHostAddress peer;
    bool released = false;
};

}  // namespace

struct ProtocolServer::Connection {
    ConnectionId id = 0;
    QWebSocket* socket = nullptr;      // owned; deleted later once disconnected
    QTimer* helloTimer = nullptr;      // child of socket
    std::optional<wire::Hello> hello;  // set once the handshake was accepted
    QString ourReason;                 // why we closed it, when we did
    QHostAddress peer;
    qint64 queued = 0;  // bytes handed to the socket and not yet written
    BytesArrived bytesArrived;             // stamped by the socket's readyRead
    bool pinged = false;                   // a ping is out, its pong not back
    std::optional<qint64> roundTripMs;     // the least any pong answered
    std::optional<double> uploadMbitPerS;  // the fastest large message's rate
};

qint64 ProtocolServer::steadyMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

qint64 ProtocolServer::steadyUs() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::optional<qint64> ProtocolServer::msSinceBytesArrived(ConnectionId id) const {
    const Connection* connection = find(id);
    if (!connection || !connection->bytesArrived) return std::nullopt;
    return steadyMs() - connection->bytesArrived->lastMs;
}

void ProtocolServer::noteUploadRate(Connection& connection, qsizetype messageBytes) {
    if (!connection.bytesArrived) return;
    const qint64 startedUs = std::exchange(connection.bytesArrived->messageStartUs, -1);
    // A small message times the event loop more than the link.
    if (startedUs < 0 || messageBytes < kUploadSampleBytes) return;
    const qint64 tookUs = steadyUs() - startedUs;
    if (tookUs <= 0) return;
    // The fastest: a slower message waited on the peer (or on this event loop) as well as the link.
    const double mbit = static_cast<double>(messageBytes) * 8.0 / static_cast<double>(tookUs);
    connection.uploadMbitPerS = std::max(connection.uploadMbitPerS.value_or(0.0), mbit);
}

std::optional<double> ProtocolServer::uploadMbitPerS(ConnectionId id) const {
    const Connection* connection = find(id);
    return connection ? connection->uploadMbitPerS : std::nullopt;
}

void ProtocolServer::ping(ConnectionId id) {
    Connection* connection = find(id);
    if (!connection || connection->pinged) return;
    connection->pinged = true;
    connection->socket->ping();
}

std::optional<qint64> ProtocolServer::roundTripMs(ConnectionId id) const {
    const Connection* connection = find(id);
    return connection ? connection->roundTripMs : std::nullopt;
}

ProtocolServer::ProtocolServer(ServerIdentity identity, QObject* parent)
    : ProtocolServer(std::move(identity), Options{}, parent) {}

ProtocolServer::ProtocolServer(ServerIdentity identity, Options options, QObject* parent)
    : QObject(parent),
      identity_(std::move(identity)),
      options_(std::move(options)),
      limits_({options_.maxConnections, options_.maxConnectionsPerAddress}) {
    RAVEN_CHECK(!identity_.certificate.isNull() && !identity_.privateKey.isNull(),
                "the protocol server needs a TLS certificate and key", "use ServerIdentity::loadOrCreate(dataDir)");
    tls_ = QSslConfiguration::defaultConfiguration();
    tls_.setLocalCertificate(identity_.certificate);
    tls_.setPrivateKey(identity_.privateKey);
    tls_.setPeerVerifyMode(QSslSocket::VerifyNone);  // clients prove who they are with tokens, not certificates
    tls_.setProtocol(QSsl::TlsV1_2OrLater);
    auto* listener = new TcpListener;
    listener->setParent(this);
    listener->onIncoming = [this](qintptr descriptor) { onIncoming(descriptor); };
    listener->setListenBacklogSize(1024);  // bursts wait in the kernel, not refused by it
    listener_ = listener;
    server_ = new QWebSocketServer(QStringLiteral("raven-coordinator"), QWebSocketServer::NonSecureMode, this);
    server_->setHandshakeTimeout(options_.handshakeTimeoutMs);
    server_->setMaxPendingConnections(1 << 20);  // acceptPending() drains them as they come
    connect(server_, &QWebSocketServer::newConnection, this, &ProtocolServer::acceptPending);
}

ProtocolServer::~ProtocolServer() {
    // Sockets are children of server_; drop our views of them without emitting signals.
    for (auto& [id, connection] : connections_) connection->socket->disconnect(this);
}

void ProtocolServer::listen(const QHostAddress& address, quint16 port) {
    RAVEN_CHECK(listener_->listen(address, port),
                "cannot listen on " + address.toString().toStdString() + ":" + std::to_string(port) + ": " +
                    listener_->errorString().toStdString(),
                "pick another port, or stop the program that uses it");
}

void ProtocolServer::close() {
    listener_->close();
    std::vector<ConnectionId> ids;
    for (const auto& [id, connection] : connections_) ids.push_back(id);
    for (ConnectionId id : ids) {
        if (Connection* connection = find(id)) {
            connection->ourReason = QStringLiteral("the coordinator is shutting down");
            connection->socket->close(QWebSocketProtocol::CloseCodeGoingAway, connection->ourReason);
        }
    }
}

quint16 ProtocolServer::port() const { return listener_->serverPort(); }

QUrl ProtocolServer::url() const {
    QHostAddress address = listener_->serverAddress();
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
    Connection* connection = find(id);
    if (!connection || !connection->hello || !connection->ourReason.isEmpty() ||
        connection->socket->state() != QAbstractSocket::ConnectedState)
        return false;
    QByteArray bytes;
    try {
        bytes = encodeFrame(envelope);
    } catch (const raven::Error& e) {
        // Our bug (unbounded text, unchunked content), never the peer's: it gets an answer, we a log line.
        qWarning("protocol server: not sending %s to connection %llu: %s", qPrintable(payloadName(envelope)),
                 static_cast<unsigned long long>(id), e.what());
        bytes = encodeFrame(
            makeError(wire::ERROR_CODE_INTERNAL, QStringLiteral("the coordinator could not encode its answer"),
                      QStringLiteral("the coordinator's log has details; tell its operator"), envelope.request_id()));
        connection->socket->sendBinaryMessage(bytes);
        return false;
    }
    if (connection->queued + bytes.size() > options_.maxQueuedBytes) {
        violate(*connection, wire::ERROR_CODE_UNAVAILABLE,
                QStringLiteral("%1 bytes wait unread for this peer, above the bound of %2")
                    .arg(connection->queued + bytes.size())
                    .arg(options_.maxQueuedBytes),
                QStringLiteral("read what you asked for before asking for more"));
        return false;
    }
    connection->queued += bytes.size();
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

QHostAddress ProtocolServer::peerAddress(ConnectionId id) const {
    const Connection* connection = find(id);
    return connection ? connection->peer : QHostAddress();
}

qint64 ProtocolServer::queuedBytes(ConnectionId id) const {
    const Connection* connection = find(id);
    return connection ? connection->queued : 0;
}

int ProtocolServer::openConnections() const { return limits_.total(); }

void ProtocolServer::onIncoming(qintptr descriptor) {
    auto* socket = new QSslSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        ::close(static_cast<int>(descriptor));
        delete socket;
        return;
    }
    // No Nagle: answers are small frames that a worker waits on (a lease grant, a result's ack);
    // with Nagle and the worker's delayed ACK each can stall for tens of milliseconds. (QWebSocket
    // sets TCP_NODELAY on the client's side itself; this socket is ours, handed to the server.)
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    const QHostAddress peer = socket->peerAddress();
    if (const std::optional<QString> refusal = limits_.admit(peer)) {
        // No TLS, no message: a refused peer costs one accept() and one close().
        if (refused_++ % 1000 == 0)
            qWarning("protocol server: refusing connections (%lld so far): %s", static_cast<long long>(refused_),
                     qPrintable(*refusal));
        socket->abort();
        socket->deleteLater();
        return;
    }
    auto admission = std::make_shared<Admission>(Admission{peer});
    const auto release = [this, admission] {
        if (admission->released) return;
        admission->released = true;
        limits_.release(admission->peer);
    };
    // Whichever way the socket ends (closed by either side, upgrade refused, deleted with its
    // WebSocket), its place in the limits is given back once.
    connect(socket, &QAbstractSocket::disconnected, this, release);
    connect(socket, &QObject::destroyed, this, release);

    auto* deadline = new QTimer(socket);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, this, [release, socket] {
        release();
        socket->abort();
        socket->deleteLater();
    });
    deadline->start(options_.handshakeTimeoutMs);
    const auto failed = [release, socket, deadline] {
        if (!deadline->isActive()) return;  // handed over or already ended
        deadline->stop();
        release();
        socket->abort();
        socket->deleteLater();
    };
    connect(socket, &QAbstractSocket::errorOccurred, this, failed);
    connect(socket, &QSslSocket::encrypted, this, [this, socket, deadline] {
        // From here the WebSocket server owns the upgrade (and its handshake timeout), then the
        // Connection's Hello timer takes over.
        deadline->stop();  // also turns `failed` above into a no-op
        // Every read counts as hearing from the peer, also the middle of a long message (Engine's
        // liveness): stamped here, on the TLS socket the WebSocket reads from, and handed to the
        // Connection by peer address and port once the upgrade is done.
        auto arrived = std::make_shared<Arrivals>();
        arrived->lastMs = steadyMs();
        const std::pair<QString, quint16> key{socket->peerAddress().toString(), socket->peerPort()};
        upgrading_[key] = arrived;
        connect(socket, &QIODevice::readyRead, this, [arrived] {
            arrived->lastMs = steadyMs();
            if (arrived->messageStartUs < 0) arrived->messageStartUs = steadyUs();
        });
        connect(socket, &QObject::destroyed, this, [this, key, arrived] {
            if (auto it = upgrading_.find(key); it != upgrading_.end() && it->second == arrived) upgrading_.erase(it);
        });
        server_->handleConnection(socket);
    });
    socket->setSslConfiguration(tls_);
    socket->startServerEncryption();
}

void ProtocolServer::acceptPending() {
    while (QWebSocket* socket = server_->nextPendingConnection()) {
        auto connection = std::make_unique<Connection>();
        const ConnectionId id = nextId_++;
        connection->id = id;
        connection->socket = socket;
        connection->peer = socket->peerAddress();
        if (auto it = upgrading_.find({socket->peerAddress().toString(), socket->peerPort()}); it != upgrading_.end()) {
            connection->bytesArrived = it->second;
            upgrading_.erase(it);
        }
        applyBounds(*socket);
        connect(socket, &QWebSocket::bytesWritten, this, [this, id](qint64 written) {
            if (Connection* c = find(id)) c->queued = std::max<qint64>(0, c->queued - written);
        });
        connect(socket, &QWebSocket::binaryMessageReceived, this,
                [this, id](const QByteArray& bytes) { onMessage(id, bytes); });
        connect(socket, &QWebSocket::textMessageReceived, this, [this, id](const QString&) {
            if (Connection* c = find(id))
                violate(*c, wire::ERROR_CODE_MALFORMED,
                        QStringLiteral("text message received; Raven speaks binary envelopes"));
        });
        connect(socket, &QWebSocket::disconnected, this, [this, id] { onDisconnected(id); });
        connect(socket, &QWebSocket::pong, this, [this, id](quint64 elapsedMs, const QByteArray&) {
            // Only the answer to our ping: an unasked pong's elapsed time means nothing (and a peer
            // could send them to skew what new jobs are sized for).
            if (Connection* c = find(id); c && c->pinged) {
                c->pinged = false;
                // The least one answered: the path's own delay, without the moments either end was busy.
                const auto ms = static_cast<qint64>(std::min<quint64>(elapsedMs, 24ULL * 3600 * 1000));
                c->roundTripMs = c->roundTripMs ? std::min(*c->roundTripMs, ms) : ms;
            }
        });

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
    noteUploadRate(*connection, bytes.size());
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
    try {
        emit messageReceived(id, frame.envelope);
    } catch (const std::exception& e) {
        // Handlers answer their own errors; this is the last guard, so that nothing a peer sends can
        // unwind through Qt's event loop and end the process.
        qWarning("protocol server: handling %s from connection %llu failed: %s",
                 qPrintable(payloadName(frame.envelope)), static_cast<unsigned long long>(id), e.what());
        if (Connection* c = find(id))
            violate(*c, wire::ERROR_CODE_INTERNAL, QStringLiteral("the coordinator failed to handle this message"));
    }
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
