#include "RunHistories.h"

#include "ConnectionService.h"
#include "JobWatcher.h"
#include "WhileAlive.h"
#include "requester/RequesterClient.h"

namespace raven::console {

RunHistories::RunHistories(ConnectionService& connection, JobWatcher& watcher, QObject* parent)
    : QObject(parent), connection_(connection), watcher_(watcher) {
    changedSoon_.setSingleShot(true);
    changedSoon_.setInterval(250);
    connect(&changedSoon_, &QTimer::timeout, this, &RunHistories::historiesChanged);
    // After a lost connection, the fetches that had not finished start again (the history on disk
    // keeps what came, the replay skips it).
    connect(&connection_, &ConnectionService::connectionLost, this, [this] {
        for (auto& [id, run] : runs_) run.subscription = 0;
    });
    connect(&connection_, &ConnectionService::connected, this, [this] {
        for (auto& [id, run] : runs_)
            if (!run.complete && id != watcher_.jobId()) fetch(id, run);
    });
    connect(&watcher_, &JobWatcher::historyChanged, this, [this] {
        if (runs_.count(watcher_.jobId()) && !changedSoon_.isActive()) changedSoon_.start();
    });
}

RunHistories::~RunHistories() {
    for (auto& [id, run] : runs_) stop(run);
}

void RunHistories::setJobs(const QStringList& jobIds) {
    for (auto it = runs_.begin(); it != runs_.end();) {
        if (jobIds.contains(it->first)) {
            ++it;
            continue;
        }
        stop(it->second);
        it = runs_.erase(it);
    }
    for (const QString& id : jobIds) {
        if (runs_.count(id)) continue;
        Run& run = runs_[id];
        if (id == watcher_.jobId()) continue;  // JobWatcher writes that history
        run.history = std::make_unique<JobHistory>(watcher_.historyDirectory(), id);
        fetch(id, run);
    }
}

const JobHistory* RunHistories::history(const QString& jobId) const {
    if (jobId == watcher_.jobId() && watcher_.history()) return watcher_.history();
    auto it = runs_.find(jobId);
    return it != runs_.end() ? it->second.history.get() : nullptr;
}

int RunHistories::fetching() const {
    int n = 0;
    for (const auto& [id, run] : runs_) n += run.subscription != 0 ? 1 : 0;
    return n;
}

void RunHistories::fetch(const QString& jobId, Run& run) {
    auto* client = connection_.client();
    if (!client || run.subscription != 0 || !run.history) return;
    const auto changed = [](RunHistories* self) {
        if (!self->changedSoon_.isActive()) self->changedSoon_.start();
    };
    requester::MetricsHandlers h;
    h.metrics = whileAlive(this, [jobId, changed](RunHistories* self, const wire::MetricsUpdate& u) {
        auto it = self->runs_.find(jobId);
        if (it != self->runs_.end() && it->second.history && it->second.history->add(u)) changed(self);
    });
    h.event = whileAlive(this, [jobId, changed](RunHistories* self, const wire::JobEvent& e) {
        auto it = self->runs_.find(jobId);
        if (it != self->runs_.end() && it->second.history && it->second.history->add(e)) changed(self);
    });
    h.finished = whileAlive(this, [jobId, changed](RunHistories* self, wire::JobState) {
        auto it = self->runs_.find(jobId);
        if (it == self->runs_.end()) return;
        it->second.subscription = 0;
        it->second.complete = true;
        changed(self);
    });
    h.failed = whileAlive(this, [jobId](RunHistories* self, const requester::Failure&) {
        auto it = self->runs_.find(jobId);
        if (it != self->runs_.end()) it->second.subscription = 0;  // the compare page says what is missing
    });
    run.subscription = client->subscribe(jobId, true, h);
}

void RunHistories::stop(Run& run) {
    if (run.subscription == 0) return;
    if (auto* client = connection_.client()) client->unsubscribe(run.subscription);
    run.subscription = 0;
}

}  // namespace raven::console
