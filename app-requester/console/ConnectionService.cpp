#include "ConnectionService.h"

#include <algorithm>

#include "base/Error.h"
#include "requester/LocalCluster.h"
#include "requester/RequesterClient.h"

namespace raven::console {

namespace {
constexpr int kFirstRetryMs = 1000;
constexpr int kLongestRetryMs = 30000;
}  // namespace

ConnectionService::ConnectionService(QObject* parent) : QObject(parent) {
    retry_.setSingleShot(true);
    connect(&retry_, &QTimer::timeout, this, &ConnectionService::open);
    status_ = tr("Not connected to a coordinator.");
}

ConnectionService::~ConnectionService() { disconnectFromCoordinator(); }

requester::RequesterClient* ConnectionService::client() const {
    return client_ && client_->isReady() ? client_.get() : nullptr;
}

int ConnectionService::workerCount() const { return cluster_ ? cluster_->runningWorkers() : 0; }

void ConnectionService::setWorkerCount(int count) {
    if (!cluster_) return;
    try {
        cluster_->setWorkerCount(count);
        if (state_ == ConnectionState::Connected) setState(state_, connectedText());
    } catch (const Error& e) {
        setState(state_, tr("Cannot start a local worker: %1").arg(QString::fromStdString(e.message())));
    }
}

void ConnectionService::disconnectFromCoordinator() {
    retry_.stop();
    if (client_) {
        client_->disconnect(this);
        client_->close();
    }
    client_.reset();
    cluster_.reset();  // stops the local workers and the embedded coordinator
    setState(ConnectionState::Offline, tr("Not connected to a coordinator."));
}

void ConnectionService::startEmbedded(const QString& directory, int workers) {
    disconnectFromCoordinator();
    try {
        requester::LocalClusterOptions options;
        options.directory = directory;
        options.workers = workers;
        options.keepIdentity = true;
        cluster_ = std::make_unique<requester::LocalCluster>(options);
    } catch (const Error& e) {
        setState(ConnectionState::Offline,
                 tr("The coordinator on this machine did not start: %1 %2")
                     .arg(QString::fromStdString(e.message()), QString::fromStdString(e.hint())));
        return;
    }
    client_ =
        std::make_unique<requester::RequesterClient>(cluster_->url(), cluster_->apiKey(), cluster_->knownHostsPath());
    retryMs_ = kFirstRetryMs;
    open();
}

void ConnectionService::connectRemote(const QUrl& url, const QString& apiKey, const QString& knownHostsPath) {
    disconnectFromCoordinator();
    client_ = std::make_unique<requester::RequesterClient>(url, apiKey, knownHostsPath);
    retryMs_ = kFirstRetryMs;
    open();
}

void ConnectionService::open() {
    if (!client_) return;
    client_->disconnect(this);
    connect(client_.get(), &requester::RequesterClient::ready, this, [this] {
        retryMs_ = kFirstRetryMs;
        setState(ConnectionState::Connected, connectedText());
        emit connected();
    });
    connect(client_.get(), &requester::RequesterClient::failed, this,
            [this](const QString& message, const QString& hint) {
                scheduleRetry(hint.isEmpty() ? message : message + " " + hint);
            });
    connect(client_.get(), &requester::RequesterClient::disconnected, this, [this](const QString& reason) {
        emit connectionLost();
        scheduleRetry(reason);
    });
    setState(ConnectionState::Connecting, tr("Connecting to %1…").arg(client_->coordinator().toString()));
    client_->open();
}

void ConnectionService::scheduleRetry(const QString& why) {
    setState(ConnectionState::Retrying,
             tr("Cannot reach the coordinator (%1). Trying again in %2 s.").arg(why).arg(retryMs_ / 1000));
    retry_.start(retryMs_);
    retryMs_ = std::min(retryMs_ * 2, kLongestRetryMs);
}

QString ConnectionService::connectedText() const {
    if (cluster_) {
        const int n = cluster_->runningWorkers();
        return tr("Connected to the coordinator on this machine; %n local worker(s) computing.", nullptr, n);
    }
    return tr("Connected to %1 (certificate %2).")
        .arg(client_->coordinator().toString(), client_->serverFingerprint().left(30) + "…");
}

void ConnectionService::setState(ConnectionState state, const QString& text) {
    state_ = state;
    status_ = text;
    emit stateChanged(state, text);
}

}  // namespace raven::console
