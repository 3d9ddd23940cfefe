#pragma once
// RequesterClient: a requester's session with a coordinator, asynchronous on the Qt event loop. It
// is what the console and the `raven` CLI (through BlockingRequester) use to put work on volunteers'
// machines and to get the trained model back.
//
//   RequesterClient client(QUrl("wss://coordinator.example:7443"), apiKey);
//   QObject::connect(&client, &RequesterClient::ready, [&] {
//       client.uploadDataset(manifest, data::ShardStore(dir + "/shards"),
//           {[&](const DatasetUploaded& d) { /* d.datasetId, d.shardsSent */ },
//            [](const Failure& f) { qWarning().noquote() << f.text(); }},
//           [](const UploadProgress& p) { /* p.shardsSent of p.shardsToSend */ });
//   });
//   QObject::connect(&client, &RequesterClient::failed, [](const QString& what, const QString& hint) {...});
//   client.open();
//
// The session: open() connects over TLS (the coordinator's certificate pinned on first use in the
// known-hosts file, protocol/KnownHosts.h), says Hello as a requester and authenticates with the API
// key; then ready(), or failed(message, hint) when the coordinator cannot be reached, refuses the key
// or the pin. After ready(), a lost connection is disconnected(reason) and every call in flight ends
// in its failure callback (code UNAVAILABLE). There is no automatic reconnect: open() again.
//
// Calls: each takes a Reply<T> (Failure.h), and exactly one of its two callbacks runs, later, on the
// event loop (or at once, before anything is sent, when the client is not ready or the request is
// wrong on its face). Calls may overlap; their answers are told apart by request id. Datasets are
// content-addressed, so uploading one again sends no shards, and one that shares shards with an
// earlier upload sends only the new ones. Downloads are verified by SHA-256 before the file is
// (atomically) written.
//
// Ids are the coordinator's decimal strings (job "12"); the dataset id is the manifest's id; a model
// spec is named by the SHA-256 of its text as uploaded.
#include <QObject>
#include <QString>
#include <QUrl>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "data/Manifest.h"
#include "data/ShardStore.h"
#include "protocol/raven.pb.h"
#include "requester/Failure.h"

namespace raven::protocol {
class ProtocolClient;
}

namespace raven::requester {

struct UploadProgress {
    int shardsToSend = 0;        // shards the coordinator lacked
    int shardsSent = 0;          // of those, uploaded and verified by the coordinator
    std::int64_t bytesSent = 0;  // travelling bytes (after zstd) so far
};

struct DatasetUploaded {
    QString datasetId;           // the manifest's id, as the coordinator confirmed it
    int shardsTotal = 0;         // distinct shards the manifest lists (train and test)
    int shardsSent = 0;          // those the coordinator lacked, now uploaded
    std::int64_t bytesSent = 0;  // travelling bytes of those
};

struct DownloadProgress {
    std::uint64_t receivedBytes = 0;  // travelling bytes so far
    std::uint64_t totalBytes = 0;
};

struct CheckpointDownloaded {
    QString path;                    // where the checkpoint was written
    std::uint64_t modelVersion = 0;  // the optimizer steps it holds (the version asked for, or the latest)
    std::int64_t bytes = 0;          // file size
    QString sha256;                  // of the file, verified against the coordinator's
};

// A metrics subscription's callbacks; any may be empty. After `finished` or `failed` nothing more
// arrives.
struct MetricsHandlers {
    std::function<void()> started;                            // the coordinator accepted it
    std::function<void(const wire::MetricsUpdate&)> metrics;  // a step (and evaluation) of the job
    std::function<void(const wire::JobEvent&)> event;         // state changes, checkpoints, workers...
    std::function<void(wire::JobState)> finished;             // the job reached a final state (isFinished)
    OnFailure failed;                                         // unknown job, connection lost
};

class RequesterClient : public QObject {
    Q_OBJECT
public:
    // `knownHostsPath` empty: protocol::KnownHosts::defaultPath() of the running program.
    RequesterClient(QUrl coordinator, QString apiKey, QString knownHostsPath = {}, QObject* parent = nullptr);
    ~RequesterClient() override;

    // How long open() waits for the coordinator before failed() (default 15 s).
    void setConnectTimeout(int milliseconds) { connectTimeoutMs_ = milliseconds; }

    // Connects and authenticates: ready() or failed(). Calling it again reconnects.
    void open();
    void close();
    bool isReady() const { return state_ == State::Ready; }

    const QUrl& coordinator() const { return url_; }
    // The requester id the API key belongs to (valid once ready).
    const QString& requesterId() const { return requesterId_; }
    // The coordinator's certificate fingerprint, "sha256:AB:..." (valid once ready).
    QString serverFingerprint() const;

    // Declares the dataset by its manifest and uploads the shards (from `shards`) that the coordinator
    // lacks, a few at a time, each verified here as it is read and again by the coordinator. Every
    // shard the manifest lists must be in `shards` (checked before anything is sent).
    void uploadDataset(const data::Manifest& manifest, const data::ShardStore& shards, Reply<DatasetUploaded> reply,
                       std::function<void(const UploadProgress&)> progress = {});
    // Stores a model spec (docs/model-spec.md); the reply is its SHA-256, which CreateJob names.
    void uploadModelSpec(const QString& name, const QString& specJson, Reply<QString> reply);
    void createJob(const wire::CreateJob& job, Reply<wire::JobInfo> reply);
    // This requester's jobs.
    void listJobs(Reply<std::vector<wire::JobInfo>> reply);
    // One of this requester's jobs; a NOT_FOUND Failure naming the id when there is none.
    void findJob(const QString& jobId, Reply<wire::JobInfo> reply);
    void controlJob(const QString& jobId, wire::JobAction action, Reply<wire::JobInfo> reply);

    // Follows a job's MetricsUpdate and JobEvent stream (with the past ones first when
    // `includeHistory`) until the job finishes, unsubscribe(), or the connection ends. Returns the
    // subscription's id (0 when it could not start; then `failed` runs).
    std::uint64_t subscribe(const QString& jobId, bool includeHistory, MetricsHandlers handlers);
    // Ends a subscription; no callback of it runs afterwards.
    void unsubscribe(std::uint64_t subscription);

    // Downloads the job's checkpoint at `modelVersion` (0 = the latest) to `path`: a safetensors file
    // with the model's parameters and buffers and the optimizer's state, as `raven train` writes.
    void downloadCheckpoint(const QString& jobId, std::uint64_t modelVersion, const QString& path,
                            Reply<CheckpointDownloaded> reply,
                            std::function<void(const DownloadProgress&)> progress = {});

    // The requester's own funds, and the coordinator's price per 10^12 FLOPs.
    void balance(Reply<wire::Balance> reply);
    // Who computed one of this requester's jobs, from the coordinator's ledger (most FLOPs first).
    void jobContributors(const QString& jobId, Reply<wire::JobContributors> reply);

signals:
    void ready();
    // open() did not lead to a session: what happened and what to do.
    void failed(const QString& message, const QString& hint);
    // The session ended after ready() (the coordinator went away, or close()).
    void disconnected(const QString& reason);

private:
    enum class State { Idle, Connecting, Authenticating, Ready };
    using Answer = std::function<void(const wire::Envelope&)>;
    struct Subscription;
    struct Upload;

    // Sends `request`; `done` gets the answer when its payload is `expected`, `failed` gets an Error
    // answer, an unexpected one, or a lost connection.
    void call(wire::Envelope request, wire::Envelope::PayloadCase expected, Answer done, OnFailure failed);
    // Runs `failed` with `failure` (the callers' callbacks never run inside the call that started them
    // unless the client is not ready).
    static void report(const OnFailure& failed, const Failure& failure);
    Failure notReady(const char* what) const;
    void onConnectionReady();
    void onConnectionEnded(const QString& reason);
    void failOpen(const QString& message, const QString& hint);
    void endSubscription(std::uint64_t id, bool tellCoordinator);
    // Starts sending the upload's next shard, or finishes the upload when none is left.
    void startNextShard(const std::shared_ptr<Upload>& upload);
    void sendShardChunk(const std::shared_ptr<Upload>& upload, const QString& hash,
                        std::shared_ptr<const std::vector<wire::ContentChunk>> chunks, std::size_t next);

    QUrl url_;
    QString apiKey_;
    protocol::ProtocolClient* connection_ = nullptr;
    State state_ = State::Idle;
    int connectTimeoutMs_ = 15000;
    std::uint64_t attempt_ = 0;  // of open(), so that a late timeout of an earlier attempt is ignored
    QString refusal_;
    QString requesterId_;
    std::map<std::uint64_t, std::shared_ptr<Subscription>> subscriptions_;
};

}  // namespace raven::requester
