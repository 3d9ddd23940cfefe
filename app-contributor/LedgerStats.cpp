#include "LedgerStats.h"

#include "ComputePolicy.h"
#include "protocol/ProtocolClient.h"

namespace raven::contributor {

namespace {
constexpr int kDays = 30;  // the chart's span
}

LedgerStats::LedgerStats(QObject* parent) : QObject(parent) {
    retry_.setSingleShot(true);
    connect(&retry_, &QTimer::timeout, this, &LedgerStats::connectNow);
    periodic_.setInterval(60000);
    connect(&periodic_, &QTimer::timeout, this, &LedgerStats::refresh);
}

LedgerStats::~LedgerStats() {
    ++generation_;  // the pending handlers' answers are no longer wanted
    if (client_) client_->disconnect(this);
    client_.reset();
}

void LedgerStats::setCoordinator(const QUrl& url, const QString& token, const QString& knownHostsPath) {
    if (url == url_ && token == token_ && knownHostsPath == knownHostsPath_) return;
    url_ = url;
    token_ = token;
    knownHostsPath_ = knownHostsPath;
    // Figures of another coordinator or contributor would be wrong here.
    figures_.reset();
    fetchedAt_ = {};
    ++generation_;
    if (client_) {
        client_->disconnect(this);
        client_->close();
        client_.release()->deleteLater();
    }
    authenticated_ = asking_ = false;
    backoff_.reset();
    retry_.stop();
    if (url_.isEmpty() || token_.isEmpty()) {
        periodic_.stop();
        setConnection(Connection::NotSetUp, QString());
        emit updated();
        return;
    }
    periodic_.start();
    emit updated();
    connectNow();
}

void LedgerStats::refresh() {
    if (url_.isEmpty() || token_.isEmpty()) return;
    if (client_ && client_->isReady() && authenticated_) return ask();
    if (!client_ && !retry_.isActive()) connectNow();
}

void LedgerStats::connectNow() {
    if (client_) {
        client_->disconnect(this);
        client_.release()->deleteLater();
    }
    authenticated_ = false;
    asking_ = false;
    const quint64 generation = ++generation_;
    protocol::ProtocolClient::Options options;
    options.self = protocol::PeerInfo{wire::ROLE_CONTRIBUTOR, {}, {}, QStringLiteral("raven-contributor statistics")};
    options.knownHostsPath = knownHostsPath_;
    client_ = std::make_unique<protocol::ProtocolClient>(options);
    setConnection(figures_ ? connection_ : Connection::Connecting,
                  figures_ ? detail_ : QStringLiteral("connecting to %1").arg(url_.toString()));
    connect(client_.get(), &protocol::ProtocolClient::refused, this, [this](const QString& why) { fail(why, false); });
    connect(client_.get(), &protocol::ProtocolClient::disconnected, this,
            [this](const QString& why) { fail(why, true); });
    connect(client_.get(), &protocol::ProtocolClient::ready, this, [this, generation] {
        fingerprint_ = client_->serverFingerprint();
        wire::Envelope e;
        e.mutable_authenticate()->set_contributor_token(token_.toStdString());
        client_->request(std::move(e), [this, generation](const wire::Envelope& reply) {
            // An answer for a connection given up meanwhile (or failed by its closing) changes nothing.
            if (generation != generation_) return protocol::ProtocolClient::ReplyFlow::Done;
            if (!reply.has_auth_result() || !reply.auth_result().accepted()) {
                const QString why = reply.has_auth_result() ? QString::fromStdString(reply.auth_result().reason())
                                    : reply.has_error()     ? QString::fromStdString(reply.error().message())
                                                            : QStringLiteral("no answer");
                // A connection that dropped is retried; a token refused is not.
                QMetaObject::invokeMethod(
                    this,
                    [this, why, dropped = reply.has_error() && reply.error().code() == wire::ERROR_CODE_UNAVAILABLE] {
                        fail(QStringLiteral("the token was refused: ") + why, dropped);
                    },
                    Qt::QueuedConnection);
                return protocol::ProtocolClient::ReplyFlow::Done;
            }
            authenticated_ = true;
            backoff_.reset();
            QMetaObject::invokeMethod(this, &LedgerStats::ask, Qt::QueuedConnection);
            return protocol::ProtocolClient::ReplyFlow::Done;
        });
    });
    client_->open(url_);
}

void LedgerStats::ask() {
    if (asking_ || !client_ || !client_->isReady()) return;
    asking_ = true;
    wire::Envelope e;
    e.mutable_contributor_stats_query()->set_days(kDays);
    client_->request(std::move(e), [this, generation = generation_](const wire::Envelope& reply) {
        if (generation != generation_) return protocol::ProtocolClient::ReplyFlow::Done;
        asking_ = false;
        if (reply.has_contributor_stats()) {
            figures_ = reply.contributor_stats();
            fetchedAt_ = QDateTime::currentDateTime();
            setConnection(Connection::Online, QStringLiteral("connected to %1").arg(url_.toString()));
            emit updated();
        }
        return protocol::ProtocolClient::ReplyFlow::Done;
    });
}

void LedgerStats::fail(const QString& why, bool retry) {
    if (connection_ == Connection::Refused && !retry) return;
    ++generation_;
    if (client_) {
        client_->disconnect(this);
        client_.release()->deleteLater();
    }
    authenticated_ = asking_ = false;
    if (!retry) {
        retry_.stop();
        nextTry_ = {};
        setConnection(Connection::Refused, why);
        return;
    }
    const int delay = backoff_.nextDelayMs();
    nextTry_ = QDateTime::currentDateTime().addMSecs(delay);
    retry_.start(delay);
    setConnection(Connection::Offline, why);
}

void LedgerStats::setConnection(Connection c, const QString& detail) {
    if (c == connection_ && detail == detail_) return;
    connection_ = c;
    detail_ = detail;
    emit connectionChanged();
}

QString LedgerStats::connectionSentence() const {
    switch (connection_) {
        case Connection::NotSetUp:
            return QStringLiteral("no coordinator set up");
        case Connection::Connecting:
            return detail_;
        case Connection::Online:
            return fingerprint_.isEmpty() ? detail_ : QStringLiteral("%1 (certificate %2)").arg(detail_, fingerprint_);
        case Connection::Offline: {
            const qint64 ms = QDateTime::currentDateTime().msecsTo(nextTry_);
            return QStringLiteral("offline: cannot reach %1 (%2); next try in %3")
                .arg(url_.toString(), detail_, ComputePolicy::duration(std::max<qint64>(0, ms)));
        }
        case Connection::Refused:
            return QStringLiteral("refused: %1").arg(detail_);
    }
    return {};
}

}  // namespace raven::contributor
