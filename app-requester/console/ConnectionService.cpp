#include "ConnectionService.h"

#include <algorithm>

#include "ErrorText.h"
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
    countdown_.setInterval(1000);
    countdown_.setTimerType(Qt::PreciseTimer);  // in step with the retry: each second shown once
    connect(&countdown_, &QTimer::timeout, this, [this] {
        if (state_ != ConnectionState::Retrying) return countdown_.stop();
        status_ = retryText();
        emit statusTextChanged(status_);
    });
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
    countdown_.stop();
    wasConnected_ = false;
    connectedAgainAt_ = {};
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
        if (wasConnected_) connectedAgainAt_ = QDateTime::currentDateTime();
        wasConnected_ = true;
        setState(ConnectionState::Connected, connectedText());
        emit connected();
    });
    connect(client_.get(), &requester::RequesterClient::failed, this,
            [this](const QString& message, const QString& hint) { scheduleRetry(app::errorSentences(message, hint)); });
    connect(client_.get(), &requester::RequesterClient::disconnected, this, [this](const QString& reason) {
        emit connectionLost();
        scheduleRetry(app::errorSentences(reason, {}));
    });
    countdown_.stop();
    setState(ConnectionState::Connecting, tr("Connecting to %1…").arg(client_->coordinator().toString()));
    client_->open();
}

void ConnectionService::scheduleRetry(const QString& why) {
    retryWhy_ = why;
    retryAt_ = QDateTime::currentDateTime().addMSecs(retryMs_);
    retry_.start(retryMs_);
    countdown_.start();
    retryMs_ = std::min(retryMs_ * 2, kLongestRetryMs);
    setState(ConnectionState::Retrying, retryText());
}

QString ConnectionService::retryText() const {
    // What happens next first: a status bar cuts a long sentence at its end.
    const qint64 ms = std::max<qint64>(0, QDateTime::currentDateTime().msecsTo(retryAt_));
    return tr("Not connected; trying again in %1 s. %2").arg(std::max<qint64>(1, (ms + 500) / 1000)).arg(retryWhy_);
}

QString ConnectionService::connectedText() const {
    if (cluster_) {
        const int n = cluster_->runningWorkers();
        return n == 1 ? tr("Connected to the coordinator on this machine; 1 local worker computing.")
                      : tr("Connected to the coordinator on this machine; %1 local workers computing.").arg(n);
    }
    const QString fingerprint = client_->serverFingerprint().left(30) + "…";
    if (connectedAgainAt_.isValid())
        return tr("Connected again at %1 to %2 (certificate %3).")
            .arg(connectedAgainAt_.toString(QStringLiteral("HH:mm:ss")), client_->coordinator().toString(),
                 fingerprint);
    return tr("Connected to %1 (certificate %2).").arg(client_->coordinator().toString(), fingerprint);
}

void ConnectionService::setState(ConnectionState state, const QString& text) {
    state_ = state;
    status_ = text;
    emit stateChanged(state, text);
}

}  // namespace raven::console
