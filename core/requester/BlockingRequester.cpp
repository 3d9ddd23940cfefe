#include "requester/BlockingRequester.h"

#include "base/Error.h"
#include "requester/Credits.h"

namespace raven::requester {

BlockingRequester::BlockingRequester(const QUrl& coordinator, const QString& apiKey, const QString& knownHostsPath,
                                     int connectTimeoutMs)
    : client_(coordinator, apiKey, knownHostsPath) {
    client_.setConnectTimeout(connectTimeoutMs);
    std::optional<Failure> failure;
    bool ready = false;
    QEventLoop loop;
    QObject::connect(&client_, &RequesterClient::ready, &loop, [&] {
        ready = true;
        loop.quit();
    });
    QObject::connect(&client_, &RequesterClient::failed, &loop, [&](const QString& message, const QString& hint) {
        failure = Failure{wire::ERROR_CODE_UNAVAILABLE, message, hint};
        loop.quit();
    });
    client_.open();
    if (!ready && !failure) loop.exec();
    if (failure) failure->raise();
}

DatasetUploaded BlockingRequester::uploadDataset(const data::Manifest& manifest, const data::ShardStore& shards,
                                                 std::function<void(const UploadProgress&)> progress) {
    return wait<DatasetUploaded>(
        [&](Reply<DatasetUploaded> r) { client_.uploadDataset(manifest, shards, std::move(r), std::move(progress)); });
}

QString BlockingRequester::uploadModelSpec(const QString& name, const QString& specJson) {
    return wait<QString>([&](Reply<QString> r) { client_.uploadModelSpec(name, specJson, std::move(r)); });
}

wire::JobInfo BlockingRequester::createJob(const wire::CreateJob& job) {
    return wait<wire::JobInfo>([&](Reply<wire::JobInfo> r) { client_.createJob(job, std::move(r)); });
}

std::vector<wire::JobInfo> BlockingRequester::listJobs() {
    return wait<std::vector<wire::JobInfo>>(
        [&](Reply<std::vector<wire::JobInfo>> r) { client_.listJobs(std::move(r)); });
}

wire::JobInfo BlockingRequester::job(const QString& jobId) {
    return wait<wire::JobInfo>([&](Reply<wire::JobInfo> r) { client_.findJob(jobId, std::move(r)); });
}

wire::JobInfo BlockingRequester::controlJob(const QString& jobId, wire::JobAction action) {
    return wait<wire::JobInfo>([&](Reply<wire::JobInfo> r) { client_.controlJob(jobId, action, std::move(r)); });
}

CheckpointDownloaded BlockingRequester::downloadCheckpoint(const QString& jobId, std::uint64_t modelVersion,
                                                           const QString& path,
                                                           std::function<void(const DownloadProgress&)> progress) {
    return wait<CheckpointDownloaded>([&](Reply<CheckpointDownloaded> r) {
        client_.downloadCheckpoint(jobId, modelVersion, path, std::move(r), std::move(progress));
    });
}

wire::Balance BlockingRequester::balance() {
    return wait<wire::Balance>([&](Reply<wire::Balance> r) { client_.balance(std::move(r)); });
}

wire::JobContributors BlockingRequester::jobContributors(const QString& jobId) {
    return wait<wire::JobContributors>(
        [&](Reply<wire::JobContributors> r) { client_.jobContributors(jobId, std::move(r)); });
}

wire::JobState BlockingRequester::watch(const QString& jobId, std::function<void(const wire::MetricsUpdate&)> metrics,
                                        std::function<void(const wire::JobEvent&)> event, bool includeHistory) {
    // Shared with callbacks that may still arrive after this returns (the state query below).
    struct Watch {
        std::optional<wire::JobState> end;
        std::optional<Failure> failure;
        QEventLoop loop;
        std::uint64_t subscription = 0;
        void finish(wire::JobState state) {
            if (end || failure) return;
            end = state;
            loop.quit();
        }
        void fail(const Failure& f) {
            if (end || failure) return;
            failure = f;
            loop.quit();
        }
    };
    auto w = std::make_shared<Watch>();
    const std::weak_ptr<Watch> weak = w;
    MetricsHandlers handlers;
    handlers.metrics = std::move(metrics);
    handlers.event = std::move(event);
    handlers.finished = [w](wire::JobState state) { w->finish(state); };
    handlers.failed = [w](const Failure& f) { w->fail(f); };
    // The job may have ended before the subscription began: once the coordinator streams, ask for
    // its state, so that an end that happened earlier is not waited for forever.
    handlers.started = [this, jobId, weak] {
        client_.findJob(jobId, {[this, weak](const wire::JobInfo& info) {
                                    const auto watching = weak.lock();
                                    if (!watching || !isFinished(info.state())) return;
                                    client_.unsubscribe(watching->subscription);
                                    watching->finish(info.state());
                                },
                                [weak](const Failure& f) {
                                    if (const auto watching = weak.lock()) watching->fail(f);
                                }});
    };
    w->subscription = client_.subscribe(jobId, includeHistory, std::move(handlers));
    if (!w->end && !w->failure) w->loop.exec();
    client_.unsubscribe(w->subscription);
    if (w->failure) w->failure->raise();
    return *w->end;
}

}  // namespace raven::requester
