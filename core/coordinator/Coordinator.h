#pragma once
// Coordinator: the server of a Raven deployment. It keeps each job's model and optimizer, cuts every
// optimizer step into work units over the dataset's shards, leases them to contributors' workers,
// accepts their gradients exactly once, pays them from the job's escrow, steps the optimizer when a
// step's units are all in, and answers requesters (uploads, jobs, metrics, checkpoints).
//
//   CoordinatorOptions options;
//   options.dataDir = "/var/lib/raven";
//   options.port = 7443;
//   Coordinator coordinator(options);       // opens <dataDir>/coordinator.sqlite, resumes unfinished jobs
//   QString token = coordinator.addContributor("gpu-box");            // for `raven-worker --token`
//   QString key = coordinator.addRequester("ana", 50 * ledger::kMicroCreditsPerCredit);
//   coordinator.start();                     // wss://..., coordinator.fingerprint() for the clients' pin
//   QObject::connect(&coordinator, &Coordinator::jobEnded, [](qint64 job, QString state) { ... });
//
// The data directory (docs/coordinator.md):
//   coordinator.sqlite         contributors, requesters, jobs, work units, leases, the credits ledger
//   tls/server.{crt,key}       the TLS identity clients pin
//   shards/<sha256>            every uploaded shard (data::ShardStore)
//   datasets/<id>.json         uploaded manifests, by dataset id
//   specs/<sha256>.json        uploaded model specs, by the SHA-256 of their text
//   jobs/<id>/state.safetensors   the job's weights, optimizer state and step: the source of truth
//   jobs/<id>/results/<unit>.result  accepted results of the current step, until the step is applied
//   jobs/<id>/v<version>.safetensors  downloadable checkpoints (the last three)
//
// Crash safety: a gradient is written and fsynced before its unit is accepted in the store, and a
// step's new state is written atomically before the store learns the new version; constructing a
// Coordinator on the data directory of one that was killed continues every job where the files say
// it stands, without losing an accepted result or paying one twice.
//
// Everything runs on the event loop of the thread that owns the Coordinator.
#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QUrl>

#include <cstdint>
#include <memory>

#include "coordinator/UnitSizing.h"
#include "coordinator/VerificationPolicy.h"
#include "ledger/Ledger.h"

namespace raven::protocol {
class ProtocolServer;
}

namespace raven::coordinator {

class ResultVerifier;
class ReplayQueue;
class StepsAhead;

class Engine;

struct CoordinatorOptions {
    QString dataDir;  // coordinator.sqlite, tls/, shards/, datasets/<id>.json, specs/<sha>.json, jobs/<id>/
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 0;             // 0: a free port (see url())
    bool openEnrollment = false;  // RegisterContributor without a token creates a contributor
    int heartbeatIntervalMs = 2000;
    int leaseTimeoutMs = 10000;      // a connection-less or silent worker loses its leases after this
    int unitDeadlineMs = 60000;      // a leased unit is re-issued after this
    // Shards per work unit of new jobs, recorded in each job (> steps' shards: a whole step);
    // 0: sized from the job's model by unitSizing's nominal figures (UnitSizing.h).
    std::int64_t shardsPerUnit = 0;
    UnitSizing unitSizing;
    ledger::CreditRate rate;
    // How long a credit stays pending when no replay checks it (Ledger.h CreditWindow); the tick
    // confirms due credits. CreditWindow::none() pays at acceptance (tests that check balances).
    ledger::CreditWindow creditWindow;
    // Which results of verifiable jobs are replayed (VerificationPolicy.h, docs/verification.md), and
    // the secret seed of the draw (0: a random one at each start; tests fix it).
    VerificationSettings verification;
    std::uint64_t verificationSeed = 0;

    // What a stranger may cost this process (docs/security.md has each with its reason).
    struct PeerLimits {
        int maxConnections = 16384;           // all stages; held below the file-descriptor limit
        int maxConnectionsPerAddress = 64;    // from one IP address
        int handshakeTimeoutMs = 10000;       // TCP accepted -> TLS and WebSocket upgrade done
        int loginTimeoutMs = 15000;           // connected -> Authenticate (or open enrollment) done
        qint64 maxQueuedBytes = 256LL << 20;  // answers waiting unread for one peer
        int enrollmentsPerAddressPerHour = 20;
    } peers;
    // What a job may ask of the volunteers' machines (checked when a spec is uploaded and a job created).
    struct JobLimits {
        std::int64_t maxParameters = 64'000'000;                // 256 MB of fp32 weights
        std::int64_t maxActivationBytesPerSample = 64LL << 20;  // kept for the backward pass
        double maxUnitFlops = 5e12;                             // one unit: ~minutes on a weak GPU
        std::int64_t maxUnitActivationBytes = 2LL << 30;        // samples per unit x per-sample memory
    } jobs;
};

class Coordinator : public QObject {
    Q_OBJECT
public:
    // Opens (or creates) the data directory and its store, and resumes every job that is not
    // finished. raven::Error when the directory or the store cannot be opened.
    explicit Coordinator(CoordinatorOptions options, QObject* parent = nullptr);
    ~Coordinator() override;

    // Listens on options.address:options.port; raven::Error when it cannot.
    void start();
    // wss://<address>:<port> of the listening server (the real port when options.port was 0).
    QUrl url() const;
    // The TLS certificate fingerprint clients pin ("sha256:AB:...").
    QString fingerprint() const;

    // Operator actions (raven-coordinator's admin commands, the console's embedded coordinator, tests).
    // A new contributor and the token its worker authenticates with (shown once, never stored).
    QString addContributor(const QString& name);
    // A new requester with `deposit` micro-credits of funds (0: none) and its API key.
    QString addRequester(const QString& name, ledger::MicroCredits deposit);

    ledger::CoordinatorStore& store();
    ledger::Ledger& ledger();
    const CoordinatorOptions& options() const { return options_; }
    // Who was caught and quarantined, and what verifying each job cost (docs/verification.md).
    const ResultVerifier& verifier() const;
    // The replays waiting and running on the pool (ReplayQueue.h).
    const ReplayQueue& replays() const;
    // Steps whose weights were computed while their last result was written, adopted or dropped
    // (StepsAhead.h).
    const StepsAhead& stepsAhead() const;

signals:
    void jobStepped(qint64 job, qint64 step, double trainLoss);  // step = steps taken so far
    void jobEvaluated(qint64 job, qint64 step, double loss, double accuracy);
    void jobEnded(qint64 job, QString state);  // "done", "cancelled", "failed", ...

private:
    CoordinatorOptions options_;
    std::unique_ptr<Engine> engine_;
};

}  // namespace raven::coordinator
