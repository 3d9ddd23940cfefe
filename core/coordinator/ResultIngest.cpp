#include "coordinator/ResultIngest.h"

#include <QMetaObject>

#include "base/Error.h"
#include "coordinator/GradientBuffers.h"

namespace raven::coordinator {

ResultIngest::ResultIngest(QThreadPool& pool, QObject& context) : pool_(pool), context_(context) {}

CheckedResult ResultIngest::checkNow(ArrivedResult arrived) {
    CheckedResult c;
    c.connection = arrived.connection;
    c.requestId = arrived.requestId;
    c.contributor = arrived.contributor;
    c.unit = arrived.unit;
    c.job = arrived.job;
    c.firstPart = arrived.firstPart;
    c.complete = arrived.complete;
    c.bytes = arrived.bytes;
    try {
        arrived.assembler->finish(GradientBuffers::shared().take(arrived.assembler->expectedElements()));
        c.sha256 = arrived.assembler->sha256();
        c.result = arrived.assembler->takeResult();
        c.facts = ResultFacts::of(c.result.gradient, c.result.sampleCount, c.result.loss, c.result.correct);
    } catch (const raven::Error& error) {
        c.malformed = QString::fromStdString(error.message());
    } catch (const std::exception& error) {  // std::bad_alloc for an absurd payload
        c.malformed = QString::fromUtf8(error.what());
    }
    return c;
}

void ResultIngest::check(ArrivedResult arrived, std::function<void(CheckedResult)> done) {
    ++inFlight_;
    // Shared, not moved, into the tasks: queued calls copy their functor.
    auto work = std::make_shared<ArrivedResult>(std::move(arrived));
    auto answer = std::make_shared<std::function<void(CheckedResult)>>(std::move(done));
    QObject* context = &context_;
    pool_.start([this, work, answer, context] {
        auto checked = std::make_shared<CheckedResult>(checkNow(std::move(*work)));
        QMetaObject::invokeMethod(
            context,
            [this, checked, answer] {
                --inFlight_;
                (*answer)(std::move(*checked));
            },
            Qt::QueuedConnection);
    });
}

}  // namespace raven::coordinator
