#include "protocol/ProtocolClient.h"

#include <QSslConfiguration>
#include <QSslError>
#include <QWebSocket>

#include "base/Error.h"
#include "protocol/Framing.h"
#include "protocol/KnownHosts.h"
#include "protocol/PeerSocket.h"
#include "protocol/ServerIdentity.h"

namespace raven::protocol {

ProtocolClient::ProtocolClient(Options options, QObject* parent) : QObject(parent), options_(std::move(options)) {
    if (options_.knownHostsPath.isEmpty()) options_.knownHostsPath = KnownHosts::defaultPath();
}

ProtocolClient::~ProtocolClient() {
    if (socket_) socket_->disconnect(this);
}

void ProtocolClient::open(const QUrl& url) {
    RAVEN_CHECK(url.scheme() == QLatin1String("wss"),
                "coordinator URL " + url.toString().toStdString() + " is not wss://",
                "Raven talks to coordinators over TLS only: use wss://host:port");
    if (socket_) {  // a new connection replaces the old one
        socket_->disconnect(this);
        socket_->abort();
        socket_->deleteLater();
        socket_ = nullptr;
        failPending(QStringLiteral("a new connection replaced this one"));
    }
    url_ = url;
    state_ = State::Connecting;
    ourReason_.clear();
    lastError_.clear();
    refusal_.clear();
    serverFingerprint_.clear();
    serverHello_.Clear();

    socket_ = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    applyBounds(*socket_);
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setProtocol(QSsl::TlsV1_2OrLater);
    socket_->setSslConfiguration(tls);
    connect(socket_, &QWebSocket::sslErrors, this, &ProtocolClient::onSslErrors);
    connect(socket_, &QWebSocket::connected, this, &ProtocolClient::onConnected);
    connect(socket_, &QWebSocket::binaryMessageReceived, this, &ProtocolClient::onMessage);
    connect(socket_, &QWebSocket::textMessageReceived, this, [this](const QString&) {
        violate(wire::ERROR_CODE_MALFORMED, QStringLiteral("text message received; Raven speaks binary envelopes"));
    });
    // Qt emits disconnected() before error() when a connection fails, and a failed TLS handshake may
    // end with error() alone: either one schedules the end, which then knows the error's text.
    const std::uint64_t generation = ++generation_;
    auto finishLater = [this, generation] {
        QMetaObject::invokeMethod(
            this,
            [this, generation] {
                if (generation == generation_) onDisconnected();
            },
            Qt::QueuedConnection);
    };
    connect(socket_, &QWebSocket::disconnected, this, finishLater);
    connect(socket_, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this, [this, finishLater] {
        lastError_ = socket_->errorString();
        if (socket_->state() == QAbstractSocket::UnconnectedState) finishLater();
    });
    socket_->open(url);
}

void ProtocolClient::close() {
    if (!socket_ || state_ == State::Idle || state_ == State::Closing) return;
    state_ = State::Closing;
    ourReason_ = QStringLiteral("closed by this %1").arg(roleName(options_.self.role));
    socket_->close(QWebSocketProtocol::CloseCodeNormal, ourReason_);
}

std::uint64_t ProtocolClient::send(wire::Envelope envelope) {
    RAVEN_CHECK(state_ == State::Ready,
                "cannot send " + payloadName(envelope).toStdString() + ": not connected to a coordinator",
                "wait for ProtocolClient::ready() before sending");
    if (envelope.request_id() == 0) envelope.set_request_id(nextRequestId_++);
    socket_->sendBinaryMessage(encodeFrame(envelope));
    return envelope.request_id();
}

std::uint64_t ProtocolClient::request(wire::Envelope envelope, ReplyHandler handler) {
    const std::uint64_t id = send(std::move(envelope));
    handlers_[id] = std::move(handler);
    return id;
}

QString ProtocolClient::hostPort() const {
    const QString host =
        url_.host().contains(QLatin1Char(':')) ? QLatin1Char('[') + url_.host() + QLatin1Char(']') : url_.host();
    return host + QLatin1Char(':') + QString::number(url_.port(443));
}

void ProtocolClient::onSslErrors(const QList<QSslError>& errors) {
    QSslCertificate certificate = socket_->sslConfiguration().peerCertificate();
    if (certificate.isNull()) {
        for (const QSslError& error : errors)
            if (!error.certificate().isNull()) {
                certificate = error.certificate();
                break;
            }
    }
    // The pin replaces certificate authorities: a self-signed certificate is expected. Anything the
    // pin does not vouch for leaves the errors standing, and Qt aborts the TLS handshake.
    if (checkPin(certificate)) socket_->ignoreSslErrors();
}

bool ProtocolClient::checkPin(const QSslCertificate& certificate) {
    if (certificate.isNull()) {
        refuse(QStringLiteral("%1 presented no TLS certificate").arg(hostPort()));
        return false;
    }
    const QString fingerprint = certificateFingerprint(certificate);
    const KnownHosts knownHosts(options_.knownHostsPath);
    try {
        const KnownHosts::Check check = knownHosts.check(hostPort(), fingerprint);
        if (check.verdict == KnownHosts::Verdict::Changed) {
            refuse(knownHosts.changedMessage(hostPort(), check.pinned, fingerprint));
            return false;
        }
        if (check.verdict == KnownHosts::Verdict::FirstContact) knownHosts.pin(hostPort(), fingerprint);
    } catch (const raven::Error& error) {
        refuse(QString::fromStdString(error.what()));
        return false;
    }
    serverFingerprint_ = fingerprint;
    return true;
}

void ProtocolClient::onConnected() {
    // With a certificate that certificate authorities vouch for, sslErrors never fired: pin it here.
    if (serverFingerprint_.isEmpty() && !checkPin(socket_->sslConfiguration().peerCertificate())) return;
    state_ = State::AwaitingHelloReply;
    wire::Envelope hello;
    hello.set_request_id(nextRequestId_++);
    *hello.mutable_hello() = makeHello(options_.self);
    socket_->sendBinaryMessage(encodeFrame(hello));
}

void ProtocolClient::onMessage(const QByteArray& bytes) {
    if (state_ != State::AwaitingHelloReply && state_ != State::Ready) return;
    DecodedFrame frame = decodeFrame(bytes);
    if (!frame.ok) {
        violate(frame.error, frame.reason);
        return;
    }
    const wire::Envelope& envelope = frame.envelope;
    if (state_ == State::AwaitingHelloReply) {
        if (envelope.has_error()) {  // the server closes after it; keep its words for disconnected()
            refusal_ = QString::fromStdString(envelope.error().message());
            return;
        }
        if (!envelope.has_hello_reply()) {
            violate(wire::ERROR_CODE_OUT_OF_ORDER, QStringLiteral("%1 before HelloReply").arg(payloadName(envelope)));
            return;
        }
        serverHello_ = envelope.hello_reply();
        const QString problem = checkHelloReply(serverHello_, options_.self);
        if (!problem.isEmpty()) {
            refuse(problem);
            return;
        }
        state_ = State::Ready;
        emit ready(serverHello_);
        return;
    }
    if (envelope.has_hello() || envelope.has_hello_reply()) {
        violate(wire::ERROR_CODE_OUT_OF_ORDER,
                QStringLiteral("%1 after the handshake was done").arg(payloadName(envelope)));
        return;
    }
    auto handler = envelope.request_id() == 0 ? handlers_.end() : handlers_.find(envelope.request_id());
    if (handler == handlers_.end()) {
        emit messageReceived(envelope);
        return;
    }
    // Copy first: the handler may send a new request (and so change handlers_).
    ReplyHandler callback = handler->second;
    if (callback(envelope) == ReplyFlow::Done) handlers_.erase(envelope.request_id());
}

void ProtocolClient::onDisconnected() {
    if (state_ == State::Idle || !socket_) return;
    const bool wasRefused = !refusal_.isEmpty();
    const QString reason = wasRefused ? refusal_ : endReason(*socket_, ourReason_, lastError_);
    state_ = State::Idle;
    socket_->disconnect(this);
    socket_->deleteLater();
    socket_ = nullptr;

    failPending(reason);
    if (wasRefused) emit refused(reason);
    emit disconnected(reason);
}

void ProtocolClient::failPending(const QString& reason) {
    std::map<std::uint64_t, ReplyHandler> pending;
    pending.swap(handlers_);
    for (auto& [id, handler] : pending)
        handler(makeError(wire::ERROR_CODE_UNAVAILABLE, QStringLiteral("connection lost: %1").arg(reason),
                          QStringLiteral("reconnect and send the request again"), id));
}

void ProtocolClient::violate(wire::ErrorCode code, const QString& reason) {
    if (state_ == State::Closing || state_ == State::Idle) return;
    state_ = State::Closing;
    ourReason_ = QStringLiteral("the coordinator broke the protocol: %1").arg(reason);
    closeWithError(*socket_, code, reason);
}

void ProtocolClient::refuse(const QString& reason) {
    if (refusal_.isEmpty()) refusal_ = reason;
    if (state_ == State::Closing || state_ == State::Idle) return;
    ourReason_ = reason;
    const bool connected = socket_->state() == QAbstractSocket::ConnectedState;
    state_ = State::Closing;
    if (connected)
        socket_->close(QWebSocketProtocol::CloseCodePolicyViolated, clampCloseReason(reason));
    else
        socket_->abort();
}

}  // namespace raven::protocol
