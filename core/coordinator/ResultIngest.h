#pragma once
// ResultIngest: the expensive half of taking in a result, off the coordinator's event loop.
//
//   ResultIngest ingest(pool, engine);
//   ingest.check(std::move(arrived), [](CheckedResult c) { ... });   // c back on engine's thread
//
// When the last part of a result has arrived, the event loop has only appended bytes
// (ResultAssembler::addPart). check() runs the rest on a worker thread: decompress, SHA-256 of the
// payload (computed once here; GroupCommit records it with the durable copy instead of hashing
// again), decode, and ResultFacts (finiteness, norm: one pass over the gradient). The answer comes
// back on the context object's thread as a queued call, in whatever order the checks finish; the
// event loop then judges, orders and answers (Engine, GroupCommit). A check whose context object is
// gone is dropped with it.
#include <QObject>
#include <QString>
#include <QThreadPool>

#include <functional>
#include <memory>
#include <optional>

#include "coordinator/ResultPlausibility.h"
#include "coordinator/StepWaterfall.h"
#include "ledger/StoreTypes.h"
#include "protocol/GradientCodec.h"
#include "protocol/ProtocolServer.h"

namespace raven::coordinator {

// A result whose parts are all in, not yet decoded, and where its answer goes.
struct ArrivedResult {
    protocol::ConnectionId connection = 0;
    std::uint64_t requestId = 0;  // of the last part: the one the worker waits on
    ledger::ContributorId contributor = 0;
    ledger::WorkUnitId unit = 0;
    ledger::JobId job = 0;
    std::unique_ptr<protocol::ResultAssembler> assembler;
    StepWaterfall::Clock::time_point firstPart;  // for the step's waterfall: upload and ingest
    StepWaterfall::Clock::time_point complete;
    std::int64_t bytes = 0;
};

// The same result decoded and measured.
struct CheckedResult {
    protocol::ConnectionId connection = 0;
    std::uint64_t requestId = 0;
    ledger::ContributorId contributor = 0;
    ledger::WorkUnitId unit = 0;
    ledger::JobId job = 0;
    StepWaterfall::Clock::time_point firstPart;
    StepWaterfall::Clock::time_point complete;
    std::int64_t bytes = 0;
    protocol::WorkResult result;   // empty gradient when malformed
    QString sha256;                // of the raw payload, as announced and verified
    ResultFacts facts;
    std::optional<QString> malformed;  // why the payload could not be decoded (counted against the sender)
    bool replayMatched = false;        // the coordinator replayed it bit for bit: its credit is confirmed at once
};

class ResultIngest {
public:
    ResultIngest(QThreadPool& pool, QObject& context);

    void check(ArrivedResult arrived, std::function<void(CheckedResult)> done);
    // Checks started and not yet answered.
    int inFlight() const { return inFlight_; }

    // The work of check() itself, on the calling thread.
    static CheckedResult checkNow(ArrivedResult arrived);

private:
    QThreadPool& pool_;
    QObject& context_;
    int inFlight_ = 0;
};

}  // namespace raven::coordinator
