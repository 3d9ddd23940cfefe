#pragma once
// LedgerStats: what the coordinator's ledger says this machine contributed and earned, asked over the
// protocol (ContributorStatsQuery, the same figures `raven-coordinator audit` checks), never guessed
// from local counts.
//
//   LedgerStats stats;
//   stats.setCoordinator(url, token, knownHostsPath);
//   connect(&stats, &LedgerStats::updated, ...);       // figures() holds the newest answer
//   stats.refresh();                                     // after each unit, and every minute
//
// Its own connection (role contributor, authenticated with the token): asking never disturbs the
// worker's session, and the figures stay reachable while the worker is paused. When the coordinator
// cannot be reached the last figures stay, marked offline with when they were fetched, and it tries
// again after a backoff (0.5 s doubling to 30 s, core/worker's Backoff) whose next try is shown.
#include <QDateTime>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <memory>
#include <optional>

#include "protocol/raven.pb.h"
#include "worker/Backoff.h"

namespace raven::protocol {
class ProtocolClient;
}

namespace raven::contributor {

class LedgerStats : public QObject {
    Q_OBJECT
public:
    enum class Connection { NotSetUp, Connecting, Online, Offline, Refused };

    explicit LedgerStats(QObject* parent = nullptr);
    ~LedgerStats() override;

    void setCoordinator(const QUrl& url, const QString& token, const QString& knownHostsPath);
    void refresh();  // ask now (connecting first when needed)
    void setRefreshIntervalMs(int ms) { periodic_.setInterval(ms); }

    const std::optional<wire::ContributorStats>& figures() const { return figures_; }
    QDateTime fetchedAt() const { return fetchedAt_; }
    Connection connection() const { return connection_; }
    // One sentence: "connected to wss://h:7443 (fingerprint sha256:AB:…)", "offline: … next try in 4 s".
    QString connectionSentence() const;
    QString fingerprint() const { return fingerprint_; }
    QDateTime nextTry() const { return nextTry_; }

signals:
    void updated();            // new figures
    void connectionChanged();  // state or sentence changed

private:
    void connectNow();
    void ask();
    void fail(const QString& why, bool retry);
    void setConnection(Connection c, const QString& detail);

    QUrl url_;
    QString token_, knownHostsPath_;
    std::unique_ptr<protocol::ProtocolClient> client_;
    quint64 generation_ = 0;  // one per connection; answers of an older one are ignored
    bool authenticated_ = false;
    bool asking_ = false;
    std::optional<wire::ContributorStats> figures_;
    QDateTime fetchedAt_;
    Connection connection_ = Connection::NotSetUp;
    QString detail_, fingerprint_;
    QDateTime nextTry_;
    worker::Backoff backoff_;
    QTimer retry_, periodic_;
};

}  // namespace raven::contributor
