#pragma once
// What the coordinator tests share: a published synthetic dataset, a Coordinator on a temporary
// data directory, blocking clients for requesters (and for driving a contributor by hand), and an
// event-driven TestWorker that does what raven-worker does (lease, fetch manifest, shards and
// weights, compute with training::computeGradientSums, submit) so that several can run at once on
// the test's event loop. Everything talks over real TLS WebSockets on loopback.
#include <QDir>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "checkpoint/Checkpoint.h"
#include "coordinator/Coordinator.h"
#include "data/Sharding.h"
#include "nn/ModelCheckpoint.h"
#include "nn/Trainer.h"
#include "protocol/Chunking.h"
#include "protocol/GradientCodec.h"
#include "protocol/ProtocolClient.h"
#include "protocol/WireKernelMode.h"
#include "tensor/Backend.h"
#include "training/ShardGradient.h"
#include "training/SyntheticDataset.h"

namespace raven::test {

using protocol::ProtocolClient;

// Tests price FLOPs at one micro-credit each, so that even the tiny synthetic units cost something.
inline ledger::CreditRate testRate() { return ledger::CreditRate{1'000'000'000'000}; }

inline std::string text(const wire::Envelope& e) {
    if (e.has_error()) return "Error{" + std::to_string(e.error().code()) + ", " + e.error().message() + "}";
    return e.ShortDebugString().substr(0, 300);
}

// --- a blocking client ----------------------------------------------------------------------------

class SyncClient {
public:
    SyncClient(const QUrl& url, wire::Role role, const QString& knownHosts) {
        ProtocolClient::Options options;
        options.self = protocol::PeerInfo{role, {}, {}, QStringLiteral("coordinator test")};
        options.knownHostsPath = knownHosts;
        client = std::make_unique<ProtocolClient>(options);
        client->open(url);
        (void)QTest::qWaitFor([&] { return client->isReady(); }, 10000);
    }

    bool ready() const { return client->isReady(); }

    // The first answer to `request` (an Error{UNAVAILABLE} when none comes in time).
    wire::Envelope call(wire::Envelope request, int timeoutMs = 10000) {
        auto reply = std::make_shared<std::optional<wire::Envelope>>();
        client->request(std::move(request), [reply](const wire::Envelope& e) {
            *reply = e;
            return ProtocolClient::ReplyFlow::Done;
        });
        (void)QTest::qWaitFor([&] { return reply->has_value(); }, timeoutMs);
        if (!reply->has_value()) {
            wire::Envelope timeout;
            timeout.mutable_error()->set_code(wire::ERROR_CODE_UNAVAILABLE);
            timeout.mutable_error()->set_message("no answer in time");
            return timeout;
        }
        return **reply;
    }

    // A content stream (ShardChunk, WeightsChunk, ManifestChunk, CheckpointChunk): the verified raw
    // bytes, or the Error that answered instead.
    struct Fetched {
        QByteArray bytes;
        std::optional<wire::Error> error;
        std::vector<wire::Envelope> answers;
    };
    Fetched fetch(wire::Envelope request, int timeoutMs = 10000) {
        auto out = std::make_shared<Fetched>();
        auto assembler = std::make_shared<protocol::ContentAssembler>();
        auto done = std::make_shared<bool>(false);
        client->request(std::move(request), [=](const wire::Envelope& e) {
            out->answers.push_back(e);
            const wire::ContentChunk* chunk = contentOf(e);
            if (!chunk) {
                out->error = e.has_error() ? e.error() : wire::Error();
                *done = true;
                return ProtocolClient::ReplyFlow::Done;
            }
            assembler->add(*chunk);
            if (!assembler->complete()) return ProtocolClient::ReplyFlow::More;
            out->bytes = assembler->content();
            *done = true;
            return ProtocolClient::ReplyFlow::Done;
        });
        (void)QTest::qWaitFor([&] { return *done; }, timeoutMs);
        if (!*done) {
            out->error = wire::Error();
            out->error->set_code(wire::ERROR_CODE_UNAVAILABLE);
        }
        return *out;
    }

    // A content stream's answers as they come, without assembling them (e.g. resumed from an offset).
    std::vector<wire::Envelope> chunks(wire::Envelope request, int timeoutMs = 10000) {
        auto out = std::make_shared<std::vector<wire::Envelope>>();
        auto done = std::make_shared<bool>(false);
        client->request(std::move(request), [=](const wire::Envelope& e) {
            out->push_back(e);
            const wire::ContentChunk* chunk = contentOf(e);
            *done = !chunk || chunk->offset() + chunk->data().size() >= chunk->total_bytes();
            return *done ? ProtocolClient::ReplyFlow::Done : ProtocolClient::ReplyFlow::More;
        });
        (void)QTest::qWaitFor([&] { return *done; }, timeoutMs);
        return *out;
    }

    static const wire::ContentChunk* contentOf(const wire::Envelope& e) {
        if (e.has_shard_chunk()) return &e.shard_chunk().content();
        if (e.has_weights_chunk()) return &e.weights_chunk().content();
        if (e.has_manifest_chunk()) return &e.manifest_chunk().content();
        if (e.has_checkpoint_chunk()) return &e.checkpoint_chunk().content();
        return nullptr;
    }

    std::unique_ptr<ProtocolClient> client;
};

// --- requests -------------------------------------------------------------------------------------

inline wire::Envelope authenticateWithKey(const std::string& key) {
    wire::Envelope e;
    e.mutable_authenticate()->set_api_key(key);
    return e;
}

inline wire::Envelope authenticateWithToken(const std::string& token) {
    wire::Envelope e;
    e.mutable_authenticate()->set_contributor_token(token);
    return e;
}

inline wire::Envelope registerContributor(double gflops = 0.0, unsigned maxLeases = 0) {
    wire::Envelope e;
    wire::RegisterContributor& r = *e.mutable_register_contributor();
    r.set_display_name("test worker");
    wire::Device& d = *r.add_devices();
    d.set_name("test cpu");
    d.set_type(wire::DEVICE_TYPE_CPU);
    d.set_measured_gflops(gflops);
    d.set_backend("cpu");
    r.set_max_concurrent_leases(maxLeases);
    return e;
}

inline wire::Envelope leaseRequest(unsigned maxUnits) {
    wire::Envelope e;
    e.mutable_lease_request()->set_max_units(maxUnits);
    return e;
}

inline wire::Envelope uploadDatasetRequest(const data::Manifest& manifest) {
    wire::Envelope e;
    wire::UploadDataset& u = *e.mutable_upload_dataset();
    u.set_name(manifest.name);
    u.set_manifest_json(manifest.toBytes().toStdString());
    for (const auto* split : {&manifest.train, &manifest.test})
        for (const data::ShardRef& s : split->shards) u.add_shard_sha256(s.hash.toStdString());
    return e;
}

inline wire::Envelope uploadSpecRequest(const std::string& json, const std::string& name = "spec") {
    wire::Envelope e;
    e.mutable_upload_model_spec()->set_spec_json(json);
    e.mutable_upload_model_spec()->set_name(name);
    return e;
}

inline wire::Hyperparameters adamHyperparameters(std::uint32_t epochs = 2, std::uint64_t maxSteps = 0) {
    wire::Hyperparameters h;
    h.set_optimizer("adam");
    h.set_learning_rate(0.01);
    h.set_global_batch(64);
    h.set_epochs(epochs);
    h.set_max_steps(maxSteps);
    h.set_seed(4);
    h.set_eval_every_steps(4);
    h.set_checkpoint_every_steps(5);
    return h;
}

inline wire::Envelope createJobRequest(const std::string& datasetId, const std::string& specSha,
                                       const wire::Hyperparameters& h, ledger::MicroCredits budget, int priority = 0) {
    wire::Envelope e;
    wire::CreateJob& c = *e.mutable_create_job();
    c.set_name("test job");
    c.set_dataset_id(datasetId);
    c.set_model_spec_sha256(specSha);
    *c.mutable_hyperparameters() = h;
    c.set_budget_micro_credits(budget);
    c.set_priority(priority);
    return e;
}

inline wire::Envelope controlJobRequest(const std::string& job, wire::JobAction action) {
    wire::Envelope e;
    e.mutable_control_job()->set_job_id(job);
    e.mutable_control_job()->set_action(action);
    return e;
}

inline wire::Envelope listJobsRequest() {
    wire::Envelope e;
    e.mutable_list_jobs();
    return e;
}

// Uploads the dataset's manifest and every missing shard (chunk by chunk, each acknowledged).
// Returns the UploadDatasetReply's missing list.
inline QStringList uploadDataset(SyncClient& client, const data::Manifest& manifest, const data::ShardStore& shards) {
    const wire::Envelope reply = client.call(uploadDatasetRequest(manifest));
    if (!reply.has_upload_dataset_reply()) qFatal("UploadDataset failed: %s", text(reply).c_str());
    QStringList missing;
    for (const std::string& hash : reply.upload_dataset_reply().missing_shard_sha256()) {
        missing << QString::fromStdString(hash);
        for (const wire::ContentChunk& chunk :
             protocol::splitContent(shards.read(QString::fromStdString(hash)), true)) {
            wire::Envelope e;
            e.mutable_upload_shard()->set_dataset_id(manifest.id.toStdString());
            *e.mutable_upload_shard()->mutable_content() = chunk;
            const wire::Envelope ack = client.call(e);
            if (!ack.has_ack()) qFatal("UploadShard failed: %s", text(ack).c_str());
        }
    }
    return missing;
}

// --- the arithmetic of a work unit, as a worker does it ------------------------------------------

// Caches what a worker fetched and computes units from it.
class UnitComputer {
public:
    explicit UnitComputer(const QString& dir) : shards_(dir) {}

    bool hasManifest(const std::string& id) const { return manifests_.count(id) > 0; }
    void addManifest(const std::string& id, const QByteArray& bytes) {
        data::Manifest m = data::Manifest::fromBytes(bytes, "fetched manifest");
        if (m.id.toStdString() != id) qFatal("the coordinator sent manifest %s for %s", qPrintable(m.id), id.c_str());
        manifests_[id] = std::move(m);
    }
    bool hasShard(const std::string& hash) const { return shards_.contains(QString::fromStdString(hash)); }
    void addShard(const QByteArray& bytes) { shards_.put(bytes); }
    bool hasWeights(const wire::WorkUnit& u) const { return weights_.count({u.job_id(), u.model_version()}) > 0; }
    void addWeights(const wire::WorkUnit& u, const QByteArray& bytes) {
        weights_[{u.job_id(), u.model_version()}] = bytes;
    }

    protocol::WorkResult compute(const wire::WorkUnit& unit) {
        const data::Manifest& manifest = manifests_.at(unit.dataset_id());
        nn::Model model(nn::ModelSpec::parse(unit.model_spec_json(), "unit spec"));
        const QByteArray& bytes = weights_.at({unit.job_id(), unit.model_version()});
        const SafeTensors tensors =
            SafeTensors::fromBytes(std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.constData()),
                                                              static_cast<std::size_t>(bytes.size())),
                                   "fetched weights");
        nn::loadParameters(model, Checkpoint::fromSafeTensors(tensors, "fetched weights"));
        model.backend().setKernelMode(protocol::kernelModeOf(unit.kernel_mode()).value());
        data::Samples samples(manifest.featureShape, manifest.labelShape);
        for (const std::string& hash : unit.shard_hashes()) {
            data::ShardRef ref{QString::fromStdString(hash), 0};
            for (const data::ShardRef& s : manifest.train.shards)
                if (s.hash == ref.hash) ref.samples = s.samples;
            const data::Samples part = data::loadShardSamples(manifest, ref, shards_);
            for (std::int64_t i = 0; i < part.count(); ++i) samples.append(part.features(i), part.labels(i));
        }
        const training::GradientSums sums = training::computeGradientSums(model, samples, manifest.normalization);
        protocol::WorkResult result;
        result.workUnitId = unit.id();
        result.gradient = sums.gradient;
        result.sampleCount = static_cast<std::uint64_t>(sums.samples);
        result.loss = sums.lossSum;
        result.correct = static_cast<std::uint64_t>(sums.correct);
        result.computeMs = 1;
        result.kernelMode = unit.kernel_mode();
        return result;
    }

private:
    data::ShardStore shards_;
    std::map<std::string, data::Manifest> manifests_;
    std::map<std::pair<std::string, std::uint64_t>, QByteArray> weights_;
};

// Fetches what `unit` needs over a blocking client; returns false when the coordinator refused one
// (e.g. NOT_FOUND for stale weights).
inline bool fetchForUnit(SyncClient& client, UnitComputer& cache, const wire::WorkUnit& unit) {
    if (!cache.hasManifest(unit.dataset_id())) {
        wire::Envelope e;
        e.mutable_fetch_manifest()->set_dataset_id(unit.dataset_id());
        const auto f = client.fetch(e);
        if (f.error) return false;
        cache.addManifest(unit.dataset_id(), f.bytes);
    }
    for (const std::string& hash : unit.shard_hashes()) {
        if (cache.hasShard(hash)) continue;
        wire::Envelope e;
        e.mutable_fetch_shard()->set_shard_sha256(hash);
        e.mutable_fetch_shard()->set_accept_zstd(true);
        const auto f = client.fetch(e);
        if (f.error) return false;
        cache.addShard(f.bytes);
    }
    if (!cache.hasWeights(unit)) {
        wire::Envelope e;
        e.mutable_fetch_weights()->set_job_id(unit.job_id());
        e.mutable_fetch_weights()->set_model_version(unit.model_version());
        const auto f = client.fetch(e);
        if (f.error) return false;
        cache.addWeights(unit, f.bytes);
    }
    return true;
}

// Sends a result's parts; returns the ResultAck (or the Error) that answers the last.
inline wire::Envelope submit(SyncClient& client, const protocol::WorkResult& result,
                             wire::GradientEncoding encoding = wire::GRADIENT_ENCODING_FP32, bool zstd = false) {
    std::vector<wire::SubmitResult> parts = protocol::makeSubmitResults(result, encoding, zstd);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        wire::Envelope e;
        *e.mutable_submit_result() = parts[i];
        client.client->send(e);
    }
    wire::Envelope last;
    *last.mutable_submit_result() = parts.back();
    return client.call(last);
}

// --- an event-driven worker -------------------------------------------------------------------------

// Leases, fetches, computes and submits until stopped; several run side by side on one event loop.
class TestWorker : public QObject {
public:
    struct Behaviour {
        double gflops = 0.0;
        unsigned maxUnits = 2;
        // > 0: after this many accepted results, disconnect while holding the next leased units.
        int leaveAfterAccepted = 0;
        // A hostile worker: changes its n-th result (0, 1, ...) before sending it (tst_Verification).
        std::function<void(protocol::WorkResult&, int n)> tamper;
    };

    TestWorker(const QUrl& url, const std::string& token, const QString& dir, Behaviour behaviour)
        : behaviour_(behaviour), cache_(dir) {
        ProtocolClient::Options options;
        options.self = protocol::PeerInfo{wire::ROLE_CONTRIBUTOR, {}, {}, QStringLiteral("test worker")};
        options.knownHostsPath = QDir(dir).filePath("known_hosts");
        client_ = std::make_unique<ProtocolClient>(options, this);
        QObject::connect(client_.get(), &ProtocolClient::ready, this, [this, token] {
            call(authenticateWithToken(token), [this](const wire::Envelope& e) {
                if (!e.has_auth_result() || !e.auth_result().accepted()) return fail("authenticate: " + text(e));
                contributorId = std::stoll(e.auth_result().principal_id());
                call(registerContributor(behaviour_.gflops), [this](const wire::Envelope& r) {
                    if (!r.has_register_reply()) return fail("register: " + text(r));
                    askForWork();
                });
            });
        });
        QObject::connect(client_.get(), &ProtocolClient::disconnected, this, [this](const QString&) { gone = true; });
        client_->open(url);
    }

    void stop() {
        stopped_ = true;
        client_->close();
    }

    qint64 contributorId = 0;
    int computed = 0;  // results sent
    int accepted = 0;
    int duplicates = 0;
    int rejected = 0;
    int unitsLeased = 0;
    int emptyGrants = 0;
    bool gone = false;
    std::set<std::string> jobsSeen;
    std::vector<std::string> failures;
    ledger::MicroCredits credited = 0;             // as each accepted result's ack said (pending or not)
    ledger::MicroCredits creditedForTampered = 0;  // of credited: for results the tamper function changed

    std::string failureText() const {
        std::string all;
        for (const std::string& f : failures) all += f + "; ";
        return all;
    }

private:
    void fail(const std::string& why) {
        failures.push_back(why);
        stop();
    }

    void call(wire::Envelope e, std::function<void(const wire::Envelope&)> then) {
        if (stopped_ || !client_->isReady()) return;
        client_->request(std::move(e), [then = std::move(then)](const wire::Envelope& reply) {
            then(reply);
            return ProtocolClient::ReplyFlow::Done;
        });
    }

    // A content stream into `done` (the raw bytes, or nullopt when refused).
    void fetch(wire::Envelope e, std::function<void(std::optional<QByteArray>)> done) {
        if (stopped_ || !client_->isReady()) return;
        auto assembler = std::make_shared<protocol::ContentAssembler>();
        client_->request(std::move(e), [assembler, done = std::move(done)](const wire::Envelope& reply) {
            const wire::ContentChunk* chunk = SyncClient::contentOf(reply);
            if (!chunk) {
                done(std::nullopt);
                return ProtocolClient::ReplyFlow::Done;
            }
            assembler->add(*chunk);
            if (!assembler->complete()) return ProtocolClient::ReplyFlow::More;
            done(assembler->content());
            return ProtocolClient::ReplyFlow::Done;
        });
    }

    void askForWork() {
        if (stopped_) return;
        call(leaseRequest(behaviour_.maxUnits), [this](const wire::Envelope& e) {
            if (!e.has_lease_grant()) return fail("lease: " + text(e));
            if (e.lease_grant().units_size() == 0) {
                ++emptyGrants;
                QTimer::singleShot(std::max<int>(10, static_cast<int>(e.lease_grant().retry_after_ms()) / 5), this,
                                   [this] { askForWork(); });
                return;
            }
            for (const wire::WorkUnit& u : e.lease_grant().units()) {
                queue_.push_back(u);
                jobsSeen.insert(u.job_id());
            }
            unitsLeased += e.lease_grant().units_size();
            next();
        });
    }

    void next() {
        if (stopped_) return;
        if (behaviour_.leaveAfterAccepted > 0 && accepted >= behaviour_.leaveAfterAccepted) {
            stop();  // leaves holding the leases of everything still queued
            return;
        }
        if (queue_.empty()) return askForWork();
        const wire::WorkUnit unit = queue_.front();
        queue_.erase(queue_.begin());
        prepare(unit, [this, unit](bool ok) {
            if (!ok) return next();  // stale: drop it
            protocol::WorkResult result = cache_.compute(unit);
            bool tampered = false;
            if (behaviour_.tamper) {
                const std::vector<float> honest = result.gradient;
                behaviour_.tamper(result, computed);
                tampered = result.gradient != honest;
            }
            ++computed;
            std::vector<wire::SubmitResult> parts = protocol::makeSubmitResults(
                result, unit.gradient_encoding(), unit.gradient_zstd(), protocol::unitRoundingKey(unit));
            for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
                wire::Envelope e;
                *e.mutable_submit_result() = parts[i];
                client_->send(e);
            }
            wire::Envelope last;
            *last.mutable_submit_result() = parts.back();
            call(last, [this, tampered](const wire::Envelope& reply) {
                if (!reply.has_result_ack()) return fail("submit: " + text(reply));
                switch (reply.result_ack().status()) {
                    case wire::RESULT_STATUS_ACCEPTED:
                        ++accepted;
                        credited += reply.result_ack().credited_micro_credits();
                        if (tampered) creditedForTampered += reply.result_ack().credited_micro_credits();
                        break;
                    case wire::RESULT_STATUS_DUPLICATE:
                        ++duplicates;
                        break;
                    default:
                        ++rejected;
                        failures.push_back("rejected: " + reply.result_ack().reason());
                }
                next();
            });
        });
    }

    void prepare(const wire::WorkUnit& unit, std::function<void(bool)> done) {
        if (!cache_.hasManifest(unit.dataset_id())) {
            wire::Envelope e;
            e.mutable_fetch_manifest()->set_dataset_id(unit.dataset_id());
            return fetch(e, [=, this](std::optional<QByteArray> bytes) {
                if (!bytes) return done(false);
                cache_.addManifest(unit.dataset_id(), *bytes);
                prepare(unit, done);
            });
        }
        for (const std::string& hash : unit.shard_hashes()) {
            if (cache_.hasShard(hash)) continue;
            wire::Envelope e;
            e.mutable_fetch_shard()->set_shard_sha256(hash);
            e.mutable_fetch_shard()->set_accept_zstd(true);
            return fetch(e, [=, this](std::optional<QByteArray> bytes) {
                if (!bytes) return done(false);
                cache_.addShard(*bytes);
                prepare(unit, done);
            });
        }
        if (!cache_.hasWeights(unit)) {
            wire::Envelope e;
            e.mutable_fetch_weights()->set_job_id(unit.job_id());
            e.mutable_fetch_weights()->set_model_version(unit.model_version());
            e.mutable_fetch_weights()->set_accept_zstd(true);
            return fetch(e, [=, this](std::optional<QByteArray> bytes) {
                if (!bytes) return done(false);
                cache_.addWeights(unit, *bytes);
                prepare(unit, done);
            });
        }
        done(true);
    }

    Behaviour behaviour_;
    UnitComputer cache_;
    std::unique_ptr<ProtocolClient> client_;
    std::vector<wire::WorkUnit> queue_;
    bool stopped_ = false;
};

// --- the reference ----------------------------------------------------------------------------------

// `raven train --local` with the batches a distributed job visits (shuffleBlock = shard size).
inline std::map<std::string, std::vector<float>> localTraining(const data::Dataset& dataset,
                                                               const wire::Hyperparameters& h) {
    nn::TrainOptions options;
    options.epochs = static_cast<int>(h.epochs());
    options.batchSize = h.global_batch();
    options.shuffleSeed = h.seed();
    options.maxSteps = static_cast<std::int64_t>(h.max_steps());
    options.optimizer = nn::OptimizerConfig::defaults(nn::OptimizerKind::Adam);
    options.optimizer.lr = h.learning_rate();
    const std::unique_ptr<nn::Model> model = testing::trainSyntheticMlpLocally(dataset, options);
    std::map<std::string, std::vector<float>> out;
    for (const auto& [name, tensor] : model->stateDict()) out[name] = tensor.toVector();
    return out;
}

inline std::map<std::string, std::vector<float>> checkpointWeights(const QByteArray& bytes) {
    const SafeTensors tensors =
        SafeTensors::fromBytes(std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes.constData()),
                                                          static_cast<std::size_t>(bytes.size())),
                               "downloaded checkpoint");
    const Checkpoint checkpoint = Checkpoint::fromSafeTensors(tensors, "downloaded checkpoint");
    std::map<std::string, std::vector<float>> out;
    for (const NamedArray& a : checkpoint.parameters.arrays()) out[a.name] = a.toFloat32();
    return out;
}

// max |a - b| / max |b| over all tensors; 1e9 when the names or sizes differ.
inline double relativeDifference(const std::map<std::string, std::vector<float>>& a,
                                 const std::map<std::string, std::vector<float>>& b) {
    if (a.size() != b.size()) return 1e9;
    double worst = 0.0, scale = 0.0;
    for (const auto& [name, values] : b)
        for (float v : values) scale = std::max(scale, static_cast<double>(std::fabs(v)));
    for (const auto& [name, values] : b) {
        const auto it = a.find(name);
        if (it == a.end() || it->second.size() != values.size()) return 1e9;
        for (std::size_t i = 0; i < values.size(); ++i)
            worst = std::max(worst, static_cast<double>(std::fabs(it->second[i] - values[i])));
    }
    return worst / std::max(scale, 1e-30);
}

// --- a coordinator with a requester and a dataset ----------------------------------------------------

struct Deployment {
    QTemporaryDir dir;
    data::Dataset dataset;
    data::Manifest manifest;
    std::unique_ptr<data::ShardStore> published;  // the requester's side
    coordinator::CoordinatorOptions options;
    std::unique_ptr<coordinator::Coordinator> coordinator;
    std::string apiKey;

    Deployment() {
        dataset = testing::syntheticDataset(330, 40);  // 11 shards of 32 (the last of 10), 2 test shards
        published = std::make_unique<data::ShardStore>(dir.filePath("requester-shards"));
        manifest = data::publishDataset(dataset, *published, 32);
        options.dataDir = dir.filePath("coordinator");
        options.rate = testRate();
        // Credits confirmed at acceptance: the tests compare balances with what was accepted at once.
        // tst_Verification sets a window to watch credits stay pending, then confirmed or revoked.
        options.creditWindow = ledger::CreditWindow::none();
        options.shardsPerUnit = 1;
        options.heartbeatIntervalMs = 400;
        options.leaseTimeoutMs = 2000;
        options.unitDeadlineMs = 5000;
    }

    void start() {
        coordinator = std::make_unique<coordinator::Coordinator>(options);
        coordinator->start();
    }

    QString knownHosts() const { return dir.filePath("known_hosts"); }
    QString workerDir(const QString& name) const {
        QDir().mkpath(dir.filePath(name));
        return dir.filePath(name);
    }

    std::unique_ptr<SyncClient> requester(ledger::MicroCredits deposit = 100 * ledger::kMicroCreditsPerCredit) {
        if (apiKey.empty()) apiKey = coordinator->addRequester(QStringLiteral("ana"), deposit).toStdString();
        auto client = std::make_unique<SyncClient>(coordinator->url(), wire::ROLE_REQUESTER, knownHosts());
        const wire::Envelope auth = client->call(authenticateWithKey(apiKey));
        if (!auth.has_auth_result() || !auth.auth_result().accepted()) qFatal("requester authentication failed");
        return client;
    }

    std::unique_ptr<SyncClient> contributor(std::string* tokenOut = nullptr) {
        const std::string token = coordinator->addContributor(QStringLiteral("box")).toStdString();
        if (tokenOut) *tokenOut = token;
        auto client = std::make_unique<SyncClient>(coordinator->url(), wire::ROLE_CONTRIBUTOR, knownHosts());
        const wire::Envelope auth = client->call(authenticateWithToken(token));
        if (!auth.has_auth_result() || !auth.auth_result().accepted()) qFatal("contributor authentication failed");
        return client;
    }

    // Uploads the dataset and the synthetic MLP spec and creates a job; returns its id.
    std::string submitJob(SyncClient& requester, const wire::Hyperparameters& h,
                          ledger::MicroCredits budget = 10 * ledger::kMicroCreditsPerCredit) {
        uploadDataset(requester, manifest, *published);
        const wire::Envelope spec = requester.call(uploadSpecRequest(testing::kSyntheticMlpSpec));
        if (!spec.has_upload_model_spec_reply()) qFatal("spec upload failed: %s", text(spec).c_str());
        const wire::Envelope job = requester.call(
            createJobRequest(manifest.id.toStdString(), spec.upload_model_spec_reply().model_spec_sha256(), h, budget));
        if (!job.has_job_info()) qFatal("CreateJob failed: %s", text(job).c_str());
        return job.job_info().job_id();
    }

    std::optional<wire::JobInfo> jobInfo(SyncClient& requester, const std::string& id) {
        const wire::Envelope list = requester.call(listJobsRequest());
        for (const wire::JobInfo& j : list.job_list().jobs())
            if (j.job_id() == id) return j;
        return std::nullopt;
    }

    QByteArray downloadCheckpoint(SyncClient& requester, const std::string& job, std::uint64_t version = 0) {
        wire::Envelope e;
        e.mutable_download_checkpoint()->set_job_id(job);
        e.mutable_download_checkpoint()->set_model_version(version);
        e.mutable_download_checkpoint()->set_accept_zstd(true);
        const auto f = requester.fetch(e);
        return f.error ? QByteArray() : f.bytes;
    }
};

}  // namespace raven::test
