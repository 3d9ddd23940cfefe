#pragma once
// ProtocolClient: a contributor's or requester's end of the wire (QWebSocket over TLS).
//
//   ProtocolClient client({PeerInfo{wire::ROLE_CONTRIBUTOR}, knownHostsPath});
//   connect(&client, &ProtocolClient::ready, [&] {
//       wire::Envelope e; e.mutable_lease_request()->set_max_units(2);
//       client.request(e, [](const wire::Envelope& reply) { ...; return ProtocolClient::ReplyFlow::Done; });
//   });
//   connect(&client, &ProtocolClient::refused, [](const QString& why) { /* show it; do not retry */ });
//   client.open(QUrl("wss://coordinator.example:7443"));
//
// On open(): TLS, where the server's certificate is checked against the pin in the known-hosts file
// (trust on first use, KnownHosts.h) instead of against certificate authorities: an unknown server is
// pinned, a changed certificate is refused. Then the WebSocket upgrade, Hello, and the server's
// HelloReply; ready() once it is accepted. From then on send()/request() and messageReceived().
//
// Correlation: every envelope sent gets a fresh request id (unless it carries one); the server's
// answers carry the same id. request() routes those answers to a handler (several for a stream of
// chunks or metrics) instead of messageReceived().
#include <QObject>
#include <QSslCertificate>
#include <QString>
#include <QUrl>
#include <cstdint>
#include <functional>
#include <map>

#include "protocol/Handshake.h"
#include "protocol/raven.pb.h"

class QWebSocket;
class QSslError;

namespace raven::protocol {

class ProtocolClient : public QObject {
    Q_OBJECT
public:
    struct Options {
        PeerInfo self;           // role (contributor or requester), versions, software version, name
        QString knownHostsPath;  // empty: KnownHosts::defaultPath()
    };

    // What a reply handler wants next: Done when this reply ends the request, More for a stream.
    enum class ReplyFlow { Done, More };
    using ReplyHandler = std::function<ReplyFlow(const wire::Envelope&)>;

    explicit ProtocolClient(Options options, QObject* parent = nullptr);
    ~ProtocolClient() override;

    // Connects to wss://host:port. Outcome: ready(), or refused() and/or disconnected().
    void open(const QUrl& url);
    // Closes normally (pending handlers get an UNAVAILABLE Error).
    void close();

    bool isReady() const { return state_ == State::Ready; }

    // Sends; assigns the next request id when the envelope has none and returns the id used.
    // Throws raven::Error when not ready or when the envelope exceeds the bound.
    std::uint64_t send(wire::Envelope envelope);
    // send(), routing every answer with the same id to `handler` until it returns Done. When the
    // connection ends first, the handler gets an Error{ERROR_CODE_UNAVAILABLE}.
    std::uint64_t request(wire::Envelope envelope, ReplyHandler handler);

    // The server's HelloReply (valid once ready) and certificate fingerprint (once TLS is up).
    const wire::HelloReply& serverHello() const { return serverHello_; }
    const QString& serverFingerprint() const { return serverFingerprint_; }

signals:
    void ready(const raven::wire::HelloReply& reply);
    // Messages not routed to a request() handler: pushes (id 0) and answers nobody waits for.
    void messageReceived(const raven::wire::Envelope& envelope);
    // Retrying will not help: incompatible versions, a refused role, a changed certificate. The
    // reason says what to do. disconnected() follows.
    void refused(const QString& reason);
    // The connection (or the attempt) ended, and why.
    void disconnected(const QString& reason);

private:
    enum class State { Idle, Connecting, AwaitingHelloReply, Ready, Closing };

    void onSslErrors(const QList<QSslError>& errors);
    bool checkPin(const QSslCertificate& certificate);
    void onConnected();
    void onMessage(const QByteArray& bytes);
    void onDisconnected();
    void failPending(const QString& reason);
    void violate(wire::ErrorCode code, const QString& reason);
    void refuse(const QString& reason);
    QString hostPort() const;

    Options options_;
    QWebSocket* socket_ = nullptr;
    QUrl url_;
    State state_ = State::Idle;
    QString ourReason_;
    QString lastError_;
    QString refusal_;
    wire::HelloReply serverHello_;
    QString serverFingerprint_;
    std::uint64_t nextRequestId_ = 1;
    std::uint64_t generation_ = 0;  // of socket_, so that a late end of an old socket is ignored
    std::map<std::uint64_t, ReplyHandler> handlers_;
};

}  // namespace raven::protocol
