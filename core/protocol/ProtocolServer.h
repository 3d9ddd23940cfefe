#pragma once
// ProtocolServer: the coordinator's end of the wire. A QWebSocketServer in secure mode (wss://) that
// turns each accepted connection into a peer with a ConnectionId once its Hello is accepted.
//
// Per connection, in order:
//  0. Admission (ConnectionLimits.h): a connection over the per-address or total bound is closed at
//     once, before any TLS work.
//  1. TLS with the server's identity (ServerIdentity.h), then the WebSocket upgrade, together within
//     Options::handshakeTimeoutMs. TLS is ours (a QTcpServer handing finished QSslSockets to a plain
//     QWebSocketServer): Qt 6.4's secure QWebSocketServer stops accepting for good after a burst of
//     connections that never finish TLS.
//  2. The first message must be Hello within Options::helloTimeoutMs. It is answered with
//     HelloReply (answerHello in Handshake.h); a refused peer gets the reason and is closed.
//  3. peerConnected(id, hello), then messageReceived(id, envelope) for every later message, until
//     peerDisconnected(id, reason).
// A message that breaks the framing rules (not binary, above kMaxMessageBytes, not an Envelope, a
// second Hello) closes that connection alone, with an Error and a WebSocket close reason. So does a
// peer that lets more than Options::maxQueuedBytes of our messages wait unread (back-pressure: the
// server never buffers without bound for a peer that does not read).
//
//   ProtocolServer server(ServerIdentity::loadOrCreate(dataDir));
//   server.listen(QHostAddress::Any, 7443);
//   connect(&server, &ProtocolServer::messageReceived, [&](ConnectionId id, const wire::Envelope& e) {
//       if (e.has_heartbeat()) server.reply(id, e.request_id(), ack);
//   });
//
// Single-threaded: everything happens on the thread that owns the server, in its event loop.
#include <QHostAddress>
#include <QObject>
#include <QSslConfiguration>
#include <QString>
#include <QUrl>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "protocol/ConnectionLimits.h"
#include "protocol/Handshake.h"
#include "protocol/ServerIdentity.h"
#include "protocol/raven.pb.h"

class QWebSocket;
class QWebSocketServer;
class QTimer;
class QTcpServer;

namespace raven::protocol {

// Names one connection for the lifetime of the server; never reused.
using ConnectionId = std::uint64_t;

class ProtocolServer : public QObject {
    Q_OBJECT
public:
    struct Options {
        PeerInfo self{wire::ROLE_COORDINATOR, {}, {}, QStringLiteral("raven-coordinator")};
        int helloTimeoutMs = kHelloTimeoutMs;
        int handshakeTimeoutMs = 10000;       // TCP accepted -> TLS done and WebSocket upgraded
        int maxConnections = 16384;           // all stages; held below the file-descriptor limit
        int maxConnectionsPerAddress = 64;    // from one IP address
        qint64 maxQueuedBytes = 256LL << 20;  // sent to one peer and not yet written to its socket
    };

    explicit ProtocolServer(ServerIdentity identity, QObject* parent = nullptr);
    ProtocolServer(ServerIdentity identity, Options options, QObject* parent = nullptr);
    ~ProtocolServer() override;

    // Starts accepting; port 0 picks a free one (see port()). Throws raven::Error when it cannot listen.
    void listen(const QHostAddress& address = QHostAddress::LocalHost, quint16 port = 0);
    // Stops accepting and closes every connection.
    void close();

    quint16 port() const;
    // wss://<address>:<port>, for clients.
    QUrl url() const;
    // The certificate fingerprint clients pin ("sha256:AB:...").
    QString fingerprint() const { return identity_.fingerprint(); }

    // Sends to a connected peer; false when that connection is gone (it may have just left), or when
    // the message cannot go: above the frame bound (a bug of ours: logged, and the peer gets
    // Error{INTERNAL} instead) or above the peer's unread-bytes bound (the peer is closed). Never throws.
    bool send(ConnectionId id, const wire::Envelope& envelope);
    // send() with envelope.request_id set to the request it answers.
    bool reply(ConnectionId id, std::uint64_t requestId, wire::Envelope envelope);
    // Closes one connection with an Error and a close reason (e.g. a peer that failed authentication).
    void closeConnection(ConnectionId id, wire::ErrorCode code, const QString& reason, const QString& hint = {});

    // Peers past the handshake.
    std::vector<ConnectionId> connections() const;
    std::optional<wire::Hello> peerHello(ConnectionId id) const;
    // The peer's IP address (null when the connection is gone), for per-address limits above this one.
    QHostAddress peerAddress(ConnectionId id) const;
    // Bytes sent to a peer that its socket has not written yet.
    qint64 queuedBytes(ConnectionId id) const;
    // Milliseconds since any bytes arrived from the peer (a message's first bytes count, not only
    // whole messages: a worker uploading a large result is alive); nullopt when the connection is gone.
    std::optional<qint64> msSinceBytesArrived(ConnectionId id) const;
    // Measures the round trip to a peer end to end (a WebSocket ping and its pong, through any relay
    // between), unless one is already under way. roundTripMs() is the least of the answers, in whole
    // milliseconds (the path's delay, not a moment either end was busy); nullopt before the first pong
    // or when the connection is gone. A pong nobody asked for is ignored.
    void ping(ConnectionId id);
    std::optional<qint64> roundTripMs(ConnectionId id) const;
    // The fastest the peer's large messages (kUploadSampleBytes and more) arrived, in Mbit/s: from a
    // message's first bytes on the socket to its last, TLS and WebSocket framing included. nullopt
    // before such a message or when the connection is gone.
    std::optional<double> uploadMbitPerS(ConnectionId id) const;
    static constexpr qsizetype kUploadSampleBytes = 256 * 1024;
    // Connections in every stage (TLS, upgrade, Hello, sessions), and those refused at admission.
    int openConnections() const;
    qint64 refusedConnections() const { return refused_; }

signals:
    // A peer's Hello was accepted.
    void peerConnected(raven::protocol::ConnectionId id, const raven::wire::Hello& hello);
    // Every message after the handshake.
    void messageReceived(raven::protocol::ConnectionId id, const raven::wire::Envelope& envelope);
    // A connection ended, whatever its stage (also a refused or misbehaving one), and why.
    void peerDisconnected(raven::protocol::ConnectionId id, const QString& reason);

private:
    struct Connection;

    // What a socket's readyRead handler stamps (steady clock), shared with its Connection.
    struct Arrivals {
        qint64 lastMs = 0;           // bytes last arrived
        qint64 messageStartUs = -1;  // the first bytes since the last whole message; -1: none yet
    };
    using BytesArrived = std::shared_ptr<Arrivals>;
    static qint64 steadyMs();
    static qint64 steadyUs();
    // A large message's bytes over the time from its first bytes to its last: the peer's upload rate.
    void noteUploadRate(Connection& connection, qsizetype messageBytes);

    void onIncoming(qintptr descriptor);
    void acceptPending();
    void onMessage(ConnectionId id, const QByteArray& bytes);
    void onHello(Connection& connection, const wire::Envelope& envelope);
    void onDisconnected(ConnectionId id);
    void violate(Connection& connection, wire::ErrorCode code, const QString& reason, const QString& hint = {});
    Connection* find(ConnectionId id) const;

    ServerIdentity identity_;
    Options options_;
    QTcpServer* listener_ = nullptr;      // accepts TCP and runs TLS
    QWebSocketServer* server_ = nullptr;  // upgrades finished TLS sockets to WebSockets
    QSslConfiguration tls_;               // built once: every accepted socket shares it
    ConnectionLimits limits_;
    qint64 refused_ = 0;
    std::map<ConnectionId, std::unique_ptr<Connection>> connections_;
    // Sockets past TLS, not yet WebSockets, by peer address and port: their arrival stamps.
    std::map<std::pair<QString, quint16>, BytesArrived> upgrading_;
    ConnectionId nextId_ = 1;
};

}  // namespace raven::protocol
