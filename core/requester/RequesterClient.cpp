#include "requester/RequesterClient.h"

#include <QCoreApplication>
#include <QSysInfo>
#include <QTimer>

#include "base/Error.h"
#include "protocol/Framing.h"
#include "protocol/ProtocolClient.h"

namespace raven::requester {

using protocol::ProtocolClient;

namespace {

const QString kCoordinatorHint = QStringLiteral(
    "check that raven-coordinator is running there and that the address and port are right "
    "(--coordinator or RAVEN_COORDINATOR)");

}  // namespace

RequesterClient::RequesterClient(QUrl coordinator, QString apiKey, QString knownHostsPath, QObject* parent)
    : QObject(parent), url_(std::move(coordinator)), apiKey_(std::move(apiKey)) {
    protocol::PeerInfo self;
    self.role = wire::ROLE_REQUESTER;
    self.peerName = QCoreApplication::applicationName() + QStringLiteral(" on ") + QSysInfo::machineHostName();
    connection_ = new ProtocolClient({self, std::move(knownHostsPath)}, this);
    connect(connection_, &ProtocolClient::ready, this, [this] { onConnectionReady(); });
    connect(connection_, &ProtocolClient::refused, this, [this](const QString& reason) { refusal_ = reason; });
    connect(connection_, &ProtocolClient::disconnected, this,
            [this](const QString& reason) { onConnectionEnded(reason); });
}

RequesterClient::~RequesterClient() = default;

QString RequesterClient::serverFingerprint() const { return connection_->serverFingerprint(); }

void RequesterClient::open() {
    const std::uint64_t attempt = ++attempt_;
    refusal_.clear();
    requesterId_.clear();
    if (url_.isEmpty()) {
        failOpen(QStringLiteral("no coordinator given"),
                 QStringLiteral("name one with --coordinator wss://host:port or the RAVEN_COORDINATOR variable"));
        return;
    }
    if (!url_.isValid() || url_.scheme() != QLatin1String("wss") || url_.host().isEmpty()) {
        failOpen(QStringLiteral("'%1' is not a coordinator address").arg(url_.toString()),
                 QStringLiteral("write it as wss://host:port, e.g. wss://coordinator.example:7443"));
        return;
    }
    if (apiKey_.isEmpty()) {
        failOpen(QStringLiteral("no API key given"),
                 QStringLiteral("pass --api-key KEY, --api-key-file FILE or set RAVEN_API_KEY; the coordinator's "
                                "operator issues keys"));
        return;
    }
    state_ = State::Connecting;
    try {
        connection_->open(url_);
    } catch (const raven::Error& e) {
        failOpen(QString::fromStdString(e.message()), QString::fromStdString(e.hint()));
        return;
    }
    QTimer::singleShot(connectTimeoutMs_, this, [this, attempt] {
        if (attempt != attempt_ || (state_ != State::Connecting && state_ != State::Authenticating)) return;
        failOpen(QStringLiteral("no answer from the coordinator at %1 within %2 s")
                     .arg(url_.toString())
                     .arg(connectTimeoutMs_ / 1000.0),
                 kCoordinatorHint);
    });
}

void RequesterClient::close() {
    ++attempt_;
    connection_->close();
}

void RequesterClient::failOpen(const QString& message, const QString& hint) {
    const bool wasConnecting = state_ == State::Connecting || state_ == State::Authenticating;
    state_ = State::Idle;
    ++attempt_;  // whatever the connection still reports belongs to the failed attempt
    if (wasConnecting) connection_->close();
    emit failed(message, hint);
}

void RequesterClient::onConnectionReady() {
    if (state_ != State::Connecting) return;
    state_ = State::Authenticating;
    wire::Envelope authenticate;
    authenticate.mutable_authenticate()->set_api_key(apiKey_.toStdString());
    const std::uint64_t attempt = attempt_;
    connection_->request(authenticate, [this, attempt](const wire::Envelope& reply) {
        if (attempt != attempt_ || state_ != State::Authenticating) return ProtocolClient::ReplyFlow::Done;
        if (reply.has_auth_result() && reply.auth_result().accepted()) {
            requesterId_ = QString::fromStdString(reply.auth_result().principal_id());
            state_ = State::Ready;
            emit ready();
        } else if (reply.has_auth_result()) {
            const QString reason = QString::fromStdString(reply.auth_result().reason());
            failOpen(QStringLiteral("the coordinator at %1 refused the API key%2")
                         .arg(url_.toString(), reason.isEmpty() ? QString() : QStringLiteral(": ") + reason),
                     hintFor(wire::ERROR_CODE_UNAUTHENTICATED));
        } else if (reply.has_error() && reply.error().code() == wire::ERROR_CODE_UNAVAILABLE) {
            failOpen(QStringLiteral("the coordinator at %1 ended the connection during authentication: %2")
                         .arg(url_.toString(), QString::fromStdString(reply.error().message())),
                     kCoordinatorHint);
        } else if (reply.has_error()) {
            const Failure f = Failure::fromError(reply.error());
            failOpen(
                QStringLiteral("the coordinator at %1 refused to authenticate: %2").arg(url_.toString(), f.message),
                f.hint);
        } else {
            failOpen(QStringLiteral("the coordinator at %1 answered %2 to Authenticate")
                         .arg(url_.toString(), protocol::payloadName(reply)),
                     hintFor(wire::ERROR_CODE_VERSION_MISMATCH));
        }
        return ProtocolClient::ReplyFlow::Done;
    });
}

void RequesterClient::onConnectionEnded(const QString& reason) {
    const State was = state_;
    state_ = State::Idle;
    if (was == State::Ready) {
        emit disconnected(reason);
    } else if (was == State::Connecting || was == State::Authenticating) {
        ++attempt_;
        if (!refusal_.isEmpty())  // a changed certificate or incompatible versions: the reason says what to do
            emit failed(refusal_, {});
        else
            emit failed(QStringLiteral("cannot reach the coordinator at %1: %2").arg(url_.toString(), reason),
                        kCoordinatorHint);
    }
}

Failure RequesterClient::notReady(const char* what) const {
    return {wire::ERROR_CODE_UNAVAILABLE,
            QStringLiteral("cannot %1: not connected to a coordinator").arg(QLatin1String(what)),
            QStringLiteral("open() the client and wait for ready() first")};
}

void RequesterClient::report(const OnFailure& failed, const Failure& failure) {
    if (failed) failed(failure);
}

void RequesterClient::call(wire::Envelope request, wire::Envelope::PayloadCase expected, Answer done,
                           OnFailure failed) {
    const QString asked = protocol::payloadName(request);
    if (!isReady()) {
        report(failed, notReady(qPrintable(QStringLiteral("send ") + asked)));
        return;
    }
    try {
        connection_->request(std::move(request), [expected, asked, done = std::move(done),
                                                  failed = std::move(failed)](const wire::Envelope& reply) {
            if (reply.has_error())
                report(failed, Failure::fromError(reply.error()));
            else if (reply.payload_case() != expected)
                report(failed,
                       {wire::ERROR_CODE_INTERNAL,
                        QStringLiteral("the coordinator answered %1 to %2").arg(protocol::payloadName(reply), asked),
                        hintFor(wire::ERROR_CODE_VERSION_MISMATCH)});
            else if (done)
                done(reply);
            return ProtocolClient::ReplyFlow::Done;
        });
    } catch (const raven::Error& e) {
        report(failed, {wire::ERROR_CODE_INVALID_ARGUMENT, QString::fromStdString(e.message()),
                        QString::fromStdString(e.hint())});
    }
}

void RequesterClient::uploadModelSpec(const QString& name, const QString& specJson, Reply<QString> reply) {
    wire::Envelope request;
    request.mutable_upload_model_spec()->set_name(name.toStdString());
    request.mutable_upload_model_spec()->set_spec_json(specJson.toStdString());
    call(
        std::move(request), wire::Envelope::kUploadModelSpecReply,
        [done = std::move(reply.done)](const wire::Envelope& answer) {
            if (done) done(QString::fromStdString(answer.upload_model_spec_reply().model_spec_sha256()));
        },
        std::move(reply.failed));
}

void RequesterClient::createJob(const wire::CreateJob& job, Reply<wire::JobInfo> reply) {
    wire::Envelope request;
    *request.mutable_create_job() = job;
    call(
        std::move(request), wire::Envelope::kJobInfo,
        [done = std::move(reply.done)](const wire::Envelope& answer) {
            if (done) done(answer.job_info());
        },
        std::move(reply.failed));
}

void RequesterClient::listJobs(Reply<std::vector<wire::JobInfo>> reply) {
    wire::Envelope request;
    request.mutable_list_jobs();
    call(
        std::move(request), wire::Envelope::kJobList,
        [done = std::move(reply.done)](const wire::Envelope& answer) {
            if (done) done({answer.job_list().jobs().begin(), answer.job_list().jobs().end()});
        },
        std::move(reply.failed));
}

void RequesterClient::findJob(const QString& jobId, Reply<wire::JobInfo> reply) {
    listJobs({[jobId, reply](const std::vector<wire::JobInfo>& jobs) {
                  for (const wire::JobInfo& job : jobs)
                      if (QString::fromStdString(job.job_id()) == jobId) {
                          if (reply.done) reply.done(job);
                          return;
                      }
                  report(reply.failed, {wire::ERROR_CODE_NOT_FOUND, QStringLiteral("you have no job %1").arg(jobId),
                                        QStringLiteral("`raven jobs` lists your jobs and their ids")});
              },
              reply.failed});
}

void RequesterClient::controlJob(const QString& jobId, wire::JobAction action, Reply<wire::JobInfo> reply) {
    wire::Envelope request;
    request.mutable_control_job()->set_job_id(jobId.toStdString());
    request.mutable_control_job()->set_action(action);
    call(
        std::move(request), wire::Envelope::kJobInfo,
        [done = std::move(reply.done)](const wire::Envelope& answer) {
            if (done) done(answer.job_info());
        },
        std::move(reply.failed));
}

void RequesterClient::balance(Reply<wire::Balance> reply) {
    wire::Envelope request;
    request.mutable_balance_query();
    call(
        std::move(request), wire::Envelope::kBalance,
        [done = std::move(reply.done)](const wire::Envelope& answer) {
            if (done) done(answer.balance());
        },
        std::move(reply.failed));
}

void RequesterClient::jobContributors(const QString& jobId, Reply<wire::JobContributors> reply) {
    wire::Envelope request;
    request.mutable_job_contributors_query()->set_job_id(jobId.toStdString());
    call(
        std::move(request), wire::Envelope::kJobContributors,
        [done = std::move(reply.done)](const wire::Envelope& answer) {
            if (done) done(answer.job_contributors());
        },
        std::move(reply.failed));
}

}  // namespace raven::requester
