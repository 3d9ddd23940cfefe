#include "coordinator/GroupCommit.h"

#include <QMetaObject>

#include <memory>
#include <type_traits>

#include "base/Error.h"
#include "coordinator/CrashPoints.h"
#include "coordinator/DurableFile.h"
#include "coordinator/JobRunner.h"

namespace raven::coordinator {

static_assert(std::is_nothrow_move_constructible_v<CommitItem>, "a batch must move its results, not copy them");

GroupCommit::GroupCommit(QThreadPool& pool, QObject& context, Durable durable, SpareFiles* spares)
    : pool_(pool), context_(context), durable_(std::move(durable)), spares_(spares) {}

void GroupCommit::add(CommitItem item) {
    units_.insert(item.checked.unit);
    waiting_.push_back(std::move(item));
    startBatch();
}

void GroupCommit::write(const std::vector<CommitItem>& batch, SpareFiles* spares) {
    std::vector<std::pair<QString, QByteArrayList>> files;
    files.reserve(batch.size());
    for (const CommitItem& item : batch)
        files.push_back(JobRunner::resultFile(item.files, item.checked.unit, item.checked.contributor,
                                              item.checked.result, item.checked.sha256));
    writeDurably(
        files, [] { crashPoint(CrashPoint::ResultGradientWritten); }, spares);
    crashPoint(CrashPoint::ResultSaved);
}

void GroupCommit::startBatch() {
    if (waiting_.empty() || writing_ >= kBatchesInFlight) return;
    ++writing_;
    auto batch = std::make_shared<std::vector<CommitItem>>();
    batch->swap(waiting_);
    lastBatch_ = batch->size();
    pool_.start([this, batch] {
        try {
            write(*batch, spares_);
        } catch (const std::exception& e) {
            for (CommitItem& item : *batch) item.failure = QString::fromUtf8(e.what());
        }
        QMetaObject::invokeMethod(
            &context_,
            [this, batch] {
                for (const CommitItem& item : *batch) units_.erase(item.checked.unit);
                --writing_;
                try {
                    durable_(std::move(*batch));
                } catch (const std::exception& e) {
                    qWarning("coordinator: accepting a batch of results failed: %s", e.what());
                }
                startBatch();
            },
            Qt::QueuedConnection);
    });
}

}  // namespace raven::coordinator
