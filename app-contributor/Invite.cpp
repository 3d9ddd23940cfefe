#include "Invite.h"

#include <QDir>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QUrlQuery>

#include "ContributorConfig.h"
#include "base/Error.h"
#include "protocol/KnownHosts.h"
#include "protocol/ProtocolClient.h"

namespace raven::contributor {

std::optional<Invite> Invite::parse(const QString& text, QString* why) {
    auto fail = [why](const QString& reason) -> std::optional<Invite> {
        if (why) *why = reason;
        return std::nullopt;
    };
    const QUrl url(text.trimmed(), QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != QLatin1String("raven"))
        return fail(QStringLiteral("an invite starts with raven:// (ask the coordinator's operator for one)"));
    Invite in;
    in.host = url.host();
    in.port = url.port();
    if (in.host.isEmpty() || in.port <= 0) return fail(QStringLiteral("the invite names no host:port"));
    const QUrlQuery query(url);
    in.fingerprint = query.queryItemValue(QStringLiteral("fp"), QUrl::FullyDecoded).toUpper();
    in.token = query.queryItemValue(QStringLiteral("token"), QUrl::FullyDecoded);
    in.name = query.queryItemValue(QStringLiteral("name"), QUrl::FullyDecoded);
    static const QRegularExpression fp(QStringLiteral("^SHA256:([0-9A-F]{2}:){31}[0-9A-F]{2}$"));
    if (!fp.match(in.fingerprint).hasMatch())
        return fail(
            QStringLiteral("the invite's certificate fingerprint (fp=) is missing or damaged; copy the whole line"));
    in.fingerprint = QStringLiteral("sha256:") + in.fingerprint.mid(7);
    if (in.token.isEmpty()) return fail(QStringLiteral("the invite carries no token; copy the whole line"));
    return in;
}

QString Invite::toString() const {
    QUrl url;
    url.setScheme(QStringLiteral("raven"));
    url.setHost(host);
    url.setPort(port);
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("fp"), fingerprint);
    query.addQueryItem(QStringLiteral("token"), token);
    if (!name.isEmpty()) query.addQueryItem(QStringLiteral("name"), name);
    url.setQuery(query);
    return url.toString(QUrl::FullyEncoded);
}

QUrl Invite::coordinatorUrl() const {
    QUrl url;
    url.setScheme(QStringLiteral("wss"));
    url.setHost(host);
    url.setPort(port);
    return url;
}

QString Invite::hostPort() const {
    return (host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host) + QLatin1Char(':') +
           QString::number(port);
}

void Invite::pin(const QString& knownHostsPath) const {
    protocol::KnownHosts(knownHostsPath).pin(hostPort(), fingerprint);
}

bool joinCoordinator(ContributorConfig& config, const QString& knownHostsPath, const Invite& invite,
                     const QString& machineName, QString* why) {
    try {
        invite.pin(knownHostsPath);
    } catch (const Error& e) {
        if (why) *why = QString::fromStdString(e.message());
        return false;
    }
    QString refused;
    if (!machineName.isEmpty() && !config.set(ConfigKey::MachineName, machineName, &refused)) {
        if (why) *why = refused;
        return false;
    }
    // Token first: the coordinator URL is what makes the app count as set up.
    config.set(ConfigKey::ContributorToken, invite.token);
    config.set(ConfigKey::CoordinatorUrl, invite.coordinatorUrl().toString());
    config.set(ConfigKey::PausedByUser, false);
    return true;
}

QUrl localCoordinatorUrl() { return QUrl(QStringLiteral("wss://localhost:7443")); }

FingerprintProbe::FingerprintProbe(QObject* parent) : QObject(parent) {}
FingerprintProbe::~FingerprintProbe() {
    if (client_) client_->disconnect(this);
    if (!scratchDir_.isEmpty()) QDir(scratchDir_).removeRecursively();
}

void FingerprintProbe::probe(const QUrl& url) {
    if (client_) {
        client_->disconnect(this);
        client_.release()->deleteLater();
    }
    if (scratchDir_.isEmpty()) {
        QTemporaryDir dir;
        dir.setAutoRemove(false);
        scratchDir_ = dir.path();
    }
    QFile::remove(scratchDir_ + "/known_hosts");
    protocol::ProtocolClient::Options options;
    options.self = protocol::PeerInfo{wire::ROLE_CONTRIBUTOR, {}, {}, QStringLiteral("raven-contributor setup")};
    options.knownHostsPath = scratchDir_ + "/known_hosts";  // first contact: pinned here, then thrown away
    client_ = std::make_unique<protocol::ProtocolClient>(options);
    connect(client_.get(), &protocol::ProtocolClient::ready, this, [this] {
        const QString fp = client_->serverFingerprint();
        client_->disconnect(this);
        client_->close();
        emit found(fp);
    });
    connect(client_.get(), &protocol::ProtocolClient::refused, this, [this](const QString& why) {
        client_->disconnect(this);
        emit failed(why);
    });
    connect(client_.get(), &protocol::ProtocolClient::disconnected, this, [this](const QString& why) {
        client_->disconnect(this);
        emit failed(why.isEmpty() ? QStringLiteral("the coordinator could not be reached") : why);
    });
    client_->open(url);
}

}  // namespace raven::contributor
