#pragma once
// ConnectionService: the console's one connection to a coordinator, and the sentence that says how
// it stands (always visible in the window's status bar).
//
// Two kinds:
//  - embedded (the default, nothing to set up): a coordinator in this process with its data in
//    `directory` (the user's data folder) and N raven-worker processes on this machine, as
//    `raven train --workers N` runs them (requester::LocalCluster); the requester key is kept there,
//    so jobs survive a restart of the console;
//  - remote: a coordinator by URL and API key. Its certificate is pinned on first contact in the
//    known-hosts file; a changed certificate is refused with both fingerprints (RequesterClient).
// A failed or lost connection is tried again after 1, 2, 4 ... 30 s; nothing else is reset, so the
// pages keep what the person entered. Meanwhile the sentence leads with what happens next ("Not
// connected; trying again in 7 s.", counted down), then why; once through again it says "Connected
// again at 14:02:07", so a person who looks later sees that the console recovered by itself.
#include <QDateTime>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>
#include <memory>

#include "ledger/Ledger.h"

namespace raven::requester {
class LocalCluster;
class RequesterClient;
}  // namespace raven::requester

namespace raven::console {

enum class ConnectionState { Offline, Connecting, Connected, Retrying };

class ConnectionService : public QObject {
    Q_OBJECT
public:
    explicit ConnectionService(QObject* parent = nullptr);
    ~ConnectionService() override;

    // Stops what runs now and starts an embedded coordinator in `directory` with `workers` local
    // workers. statusChanged says how it went (a worker program that is missing, a busy directory...).
    void startEmbedded(const QString& directory, int workers);
    // Stops what runs now and connects to a remote coordinator.
    void connectRemote(const QUrl& url, const QString& apiKey, const QString& knownHostsPath = {});
    void disconnectFromCoordinator();

    bool isEmbedded() const { return cluster_ != nullptr; }
    ConnectionState state() const { return state_; }
    // "Connected to the coordinator on this machine, 2 workers" ... one sentence for the status bar.
    const QString& statusText() const { return status_; }
    // Set once connected; null before.
    requester::RequesterClient* client() const;
    // The embedded cluster; null when remote.
    requester::LocalCluster* cluster() const { return cluster_.get(); }
    // Local workers running (embedded only).
    int workerCount() const;
    void setWorkerCount(int count);
    // The delay before the next attempt (ms), doubled after each failure up to 30 s.
    int nextRetryMs() const { return retryMs_; }

signals:
    void stateChanged(raven::console::ConnectionState state, const QString& statusText);
    // The sentence alone changed: the countdown to the next attempt ("trying again in 7 s"), each second.
    void statusTextChanged(const QString& statusText);
    void connected();
    // The connection ended (the pages drop what they follow; they keep what the person entered).
    void connectionLost();

private:
    void open();
    void setState(ConnectionState state, const QString& text);
    void scheduleRetry(const QString& why);
    QString connectedText() const;
    QString retryText() const;

    std::unique_ptr<requester::LocalCluster> cluster_;
    std::unique_ptr<requester::RequesterClient> client_;
    ConnectionState state_ = ConnectionState::Offline;
    QString status_;
    QTimer retry_;
    QTimer countdown_;  // while retrying: the sentence counts the seconds down
    QDateTime retryAt_;
    QString retryWhy_;
    QDateTime connectedAgainAt_;  // when a lost connection came back; invalid: never lost
    bool wasConnected_ = false;   // to this coordinator, since connectRemote()/startEmbedded()
    int retryMs_ = 1000;
};

}  // namespace raven::console
