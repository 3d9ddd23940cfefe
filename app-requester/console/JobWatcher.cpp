#include "JobWatcher.h"

#include <QDateTime>

#include "ConnectionService.h"
#include "JobsService.h"
#include "WhileAlive.h"
#include "requester/Credits.h"
#include "requester/RequesterClient.h"

namespace raven::console {

JobWatcher::JobWatcher(ConnectionService& connection, JobsService& jobs, QString historyDirectory, QObject* parent)
    : QObject(parent), connection_(connection), jobs_(jobs), directory_(std::move(historyDirectory)) {
    connect(&connection_, &ConnectionService::connected, this, &JobWatcher::subscribe);
    connect(&connection_, &ConnectionService::connectionLost, this, [this] { subscription_ = 0; });
    connect(&jobs_, &JobsService::jobsChanged, this, &JobWatcher::recordSpend);
    contributorsPoll_.setInterval(2000);
    connect(&contributorsPoll_, &QTimer::timeout, this, &JobWatcher::refreshContributors);
    connect(&connection_, &ConnectionService::connected, this, &JobWatcher::refreshContributors);
}

JobWatcher::~JobWatcher() { unsubscribe(); }

void JobWatcher::setHistoryDirectory(const QString& directory) {
    if (directory == directory_) return;
    directory_ = directory;
    watch({});
}

void JobWatcher::watch(const QString& jobId) {
    if (jobId == jobId_ && history_) return;
    unsubscribe();
    jobId_ = jobId;
    history_.reset();
    contributors_.Clear();
    contributorsPoll_.stop();
    emit contributorsChanged();
    if (!jobId.isEmpty()) {
        refreshContributors();
        contributorsPoll_.start();
        history_ = std::make_unique<JobHistory>(directory_, jobId);
        if (!history_->writeProblem().isEmpty()) emit problem(history_->writeProblem());
        recordSpend();
        subscribe();
    }
    emit historyChanged();
}

void JobWatcher::subscribe() {
    auto* client = connection_.client();
    if (!client || !history_ || subscription_ != 0) return;
    requester::MetricsHandlers h;
    h.metrics = whileAlive(this, [](JobWatcher* self, const wire::MetricsUpdate& u) {
        if (self->history_ && self->history_->add(u)) emit self->historyChanged();
    });
    h.event = whileAlive(this, [](JobWatcher* self, const wire::JobEvent& e) {
        if (self->history_ && self->history_->add(e)) emit self->historyChanged();
    });
    h.finished = whileAlive(this, [](JobWatcher* self, wire::JobState) {
        self->subscription_ = 0;
        self->jobs_.refresh();
    });
    h.failed = whileAlive(this, [](JobWatcher* self, const requester::Failure& f) {
        self->subscription_ = 0;
        if (f.code != wire::ERROR_CODE_UNAVAILABLE) emit self->problem(f.text());
    });
    subscription_ = client->subscribe(jobId_, true, h);
}

void JobWatcher::unsubscribe() {
    if (subscription_ == 0) return;
    if (auto* client = connection_.client()) client->unsubscribe(subscription_);
    subscription_ = 0;
}

void JobWatcher::recordSpend() {
    if (!history_) return;
    const wire::JobInfo* job = jobs_.job(jobId_);
    if (job && history_->addSpend(QDateTime::currentMSecsSinceEpoch(), job->spent_micro_credits(),
                                  job->budget_micro_credits()))
        emit historyChanged();
}

void JobWatcher::refreshContributors() {
    auto* client = connection_.client();
    if (!client || jobId_.isEmpty()) return;
    // A finished job's figures no longer change: asked once more after it ended, then not again.
    const wire::JobInfo* job = jobs_.job(jobId_);
    if (job && requester::isFinished(job->state()) && contributors_.job_id() == job->job_id()) contributorsPoll_.stop();
    client->jobContributors(jobId_,
                            {whileAlive(this,
                                        [](JobWatcher* self, const wire::JobContributors& c) {
                                            if (QString::fromStdString(c.job_id()) != self->jobId_)
                                                return;  // an older job's
                                            if (c.SerializeAsString() == self->contributors_.SerializeAsString())
                                                return;
                                            self->contributors_ = c;
                                            emit self->contributorsChanged();
                                        }),
                             whileAlive(this, [](JobWatcher* self, const requester::Failure& f) {
                                 // A lost connection is the status bar's to tell; a refusal is this page's.
                                 if (f.code != wire::ERROR_CODE_UNAVAILABLE) emit self->problem(f.text());
                             })});
}

}  // namespace raven::console
