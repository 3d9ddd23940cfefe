#include "InviteCommand.h"

#include <QUrl>
#include <QUrlQuery>

#include "base/Error.h"
#include "coordinator/Admin.h"
#include "protocol/ServerIdentity.h"

namespace raven::coordinator {

QString makeInvite(ledger::CoordinatorStore& store, const QString& dataDir, const QString& name,
                   const QString& hostPort) {
    const QUrl where(QStringLiteral("raven://") + hostPort);
    RAVEN_CHECK(where.isValid() && !where.host().isEmpty() && where.port() > 0,
                "--host " + hostPort.toStdString() + " is not host:port",
                "give the address volunteers reach this coordinator at, e.g. --host raven.example.org:7443");
    // The identity serve uses (made now if the coordinator never ran): the fingerprint must match it.
    const QString fingerprint = protocol::ServerIdentity::loadOrCreate(dataDir).fingerprint();
    const QString token = admin::addContributor(store, name);
    QUrl url;
    url.setScheme(QStringLiteral("raven"));
    url.setHost(where.host());
    url.setPort(where.port());
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("fp"), fingerprint);
    query.addQueryItem(QStringLiteral("token"), token);
    query.addQueryItem(QStringLiteral("name"), name);
    url.setQuery(query);
    return url.toString(QUrl::FullyEncoded);
}

}  // namespace raven::coordinator
